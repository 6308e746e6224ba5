// The write fence of the Proxmox transport (issue 15): with several cores, a core's lease is asked right before
// every request that may change the cluster. A refusal means the request is never sent — the simulator's own log
// shows nothing — and the refusal itself reaches the caller; reads and logging in are never fenced.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProxmoxPlatform, type ProxmoxPlatform } from '../../adapters/proxmox';
import { type SimPlatform, startSimPlatform } from './sim-platform';

class NotOwnerError extends Error {
  override name = 'NotOwnerError';
}

let sp: SimPlatform;
let fenced: ProxmoxPlatform;
let owner = false;
const asked: string[] = [];

describe('proxmox fence', () => {
  beforeAll(async () => {
    sp = await startSimPlatform();
    fenced = createProxmoxPlatform(sp.config, {
      clock: sp.clock,
      log: sp.log,
      fence: (cluster) => {
        asked.push(cluster);
        if (!owner) throw new NotOwnerError(`${cluster}: not this core's`);
      },
    });
  });
  afterAll(async () => {
    await fenced?.close();
    await sp?.stop();
  });

  it('proxmox fence - a write without the lease is never sent, and the refusal comes back as it was thrown', async () => {
    const before = sp.sim.oplog.length;
    const error = await sp.settle(fenced.power('pve2', 101, 'start')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotOwnerError);
    expect(sp.sim.oplog.length).toBe(before);
    expect(asked).toContain('lab');
  });

  it('proxmox fence - reads and the login are not fenced', async () => {
    asked.length = 0;
    const inventory = await sp.settle(fenced.inventory());
    expect(inventory.vms.length).toBeGreaterThan(0);
    expect((await sp.settle(fenced.listSnapshots('pve2', 101))).map((s) => s.name)).toContain('before_upgrade');
    expect(asked).toEqual([]);
  });

  it('proxmox fence - with the lease the same write goes through', async () => {
    owner = true;
    await sp.run(fenced.power('pve2', 101, 'start'));
    expect(sp.sim.oplog.some((e) => e.vmid === 101 && /start/.test(e.op))).toBe(true);
  });
});
