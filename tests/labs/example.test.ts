// The example lab file (examples/labs/three-tier.yaml) against the demo cluster the way Overseer reads it: the PVE
// simulator seeded with `npm start`'s demo cluster, over HTTPS through the real Proxmox adapter.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SdnConfig } from '../../adapters/platform/types';
import { demoSeed } from '../../adapters/pve-sim';
import { formatIssue, formatPlan, type LabInventory, type LabSdnInventory, planLab } from '../../machines/lab';
import { validateLabFile } from '../../protocol/lab-file-parse';
import { type SimPlatform, startSimPlatform } from '../proxmox/sim-platform';

// The platform's SDN read is what lab validation takes as the cluster's SDN objects (checked by the compiler).
const sdnFits: SdnConfig extends LabSdnInventory ? true : never = true;

const EXAMPLE = readFileSync(new URL('../../examples/labs/three-tier.yaml', import.meta.url), 'utf8');

describe('labs - the example lab file', () => {
  let sim: SimPlatform;
  let inventory: LabInventory;

  beforeAll(async () => {
    sim = await startSimPlatform({ seed: demoSeed() });
    const read = await sim.settle(sim.inventory());
    inventory = { cluster: read.cluster, guests: read.vms, hosts: read.hosts, memReserveFraction: 0.1 };
  });
  afterAll(async () => {
    await sim?.stop();
  });

  it('labs - the platform SDN read fits lab validation', () => {
    expect(sdnFits).toBe(true);
  });

  it('labs - three-tier.yaml validates against the demo cluster and plans router → db → 3 web', () => {
    const result = validateLabFile(EXAMPLE, inventory);
    expect(result.issues.map(formatIssue)).toEqual([]);
    const resolved = result.resolved!;
    expect(resolved.waves).toEqual([['router'], ['db'], ['web-1', 'web-2', 'web-3']]);
    expect(resolved.members.every((m) => m.template.vmid === 9000 && m.template.name === 'debian-12-template')).toBe(
      true,
    );
    expect(resolved.members.map((m) => m.guestName)).toEqual([
      'three-tier-router',
      'three-tier-db',
      'three-tier-web-1',
      'three-tier-web-2',
      'three-tier-web-3',
    ]);
    const lines = formatPlan(planLab(resolved)).map((l) => l.replace(/ on pve\d/, ''));
    expect(lines).toEqual([
      "+ create pool 'three-tier'",
      "+ create SDN zone 'ttier' (vlan on vmbr0)",
      "+ create vnet 'ttfront' (VLAN 1101) in zone 'ttier'",
      "+ create subnet 10.42.1.0/24 (gateway 10.42.1.1) on vnet 'ttfront'",
      "+ create vnet 'ttback' (VLAN 1102) in zone 'ttier'",
      "+ create subnet 10.42.2.0/24 (gateway 10.42.2.1) on vnet 'ttback'",
      '* apply the SDN configuration cluster-wide (PUT /cluster/sdn)',
      "+ create router: linked clone of 'debian-12-template' (9000), 1 core, 1 GiB, 3 NICs, wave 0",
      "+ create db: linked clone of 'debian-12-template' (9000), 2 cores, 4 GiB, 40 GiB disk, 1 NIC, wave 1",
      "+ create web-1: linked clone of 'debian-12-template' (9000), 1 core, 2 GiB, 1 NIC, wave 2",
      "+ create web-2: linked clone of 'debian-12-template' (9000), 1 core, 2 GiB, 1 NIC, wave 2",
      "+ create web-3: linked clone of 'debian-12-template' (9000), 1 core, 2 GiB, 1 NIC, wave 2",
      "lab 'three-tier': 11 to create, 0 to change, 0 to replace, 0 to start, 0 to remove",
    ]);
    expect(resolved.spec.policy).toEqual({
      parallelism: 3,
      onFailure: 'rollback',
      ttl: 8 * 3_600_000,
      drift: 'repair',
    });
  });
});
