// The acceptance list: each bad lab file gives one clear error naming the path (and nothing is planned).
import { describe, expect, it } from 'vitest';
import { demoInventory, GiB, GOOD, problemsOf } from './helpers';

describe('labs - bad lab files', () => {
  it('labs - the good file has no problem', () => {
    expect(problemsOf(GOOD)).toEqual([]);
  });

  it('labs - a dependency cycle names the members around it', () => {
    const bad = GOOD.replace('    memory: 1G\n', '    memory: 1G\n    dependsOn: [client]\n');
    expect(problemsOf(bad)).toEqual([
      'vms[0].dependsOn[0] (line 17): dependency cycle: router → client-1 → dc → router (members in the cycle: router, dc, client-1, client-2, client-3, client-4)',
    ]);
  });

  it('labs - an unknown template names the path and the templates there are', () => {
    const bad = GOOD.replace(
      '  - name: dc\n    template: debian-12-template',
      '  - name: dc\n    template: windows-2022',
    );
    expect(problemsOf(bad)).toEqual([
      "vms[1].template (line 19): unknown template 'windows-2022' on cluster 'lab' (templates: 'debian-12-template' (9000), 'debian-12-ct-template' (9100))",
    ]);
  });

  it('labs - an unknown key names its path', () => {
    const bad = GOOD.replace('    count: 4\n', '    count: 4\n    ram_gb: 2\n');
    expect(problemsOf(bad)).toEqual([
      expect.stringMatching(
        /^vms\[2\]\.ram_gb \(line 26\): unknown key 'ram_gb' \(vms\[2\] takes: name, template, clone, node, cores, memory, disk, networks, tags, count, dependsOn, probe, cloudInit\)$/,
      ),
    ]);
  });

  it('labs - duplicate names name the second one', () => {
    const bad = GOOD.replace('  - name: dc\n', '  - name: router\n').replace('dependsOn: [dc]', 'dependsOn: [router]');
    expect(problemsOf(bad)).toEqual(["vms[1].name (line 18): duplicate VM name 'router' (also vms[0])"]);
  });

  it('labs - overlapping subnets name the subnet and what it overlaps', () => {
    const bad = GOOD.replace(
      'cidr: 10.31.0.0/24, gateway: 10.31.0.1',
      'cidr: 10.30.0.0/23, gateway: 10.30.1.1',
    ).replace('address: 10.31.0.1 }', 'address: 10.30.1.1 }');
    expect(problemsOf(bad)).toEqual([
      "networks.vnets[1].subnets[0].cidr (line 12): 10.30.0.0/23 overlaps 10.30.0.0/24 (networks.vnets[0].subnets[0], vnet 'lan')",
    ]);
    const other = {
      ...demoInventory(),
      labs: [{ name: 'blue', vnets: [{ name: 'x', tag: 900, bridge: 'vmbr0', subnets: [{ cidr: '10.31.0.0/16' }] }] }],
    };
    expect(problemsOf(GOOD, other)).toEqual([
      "networks.vnets[1].subnets[0].cidr (line 12): 10.31.0.0/24 overlaps 10.31.0.0/16 of lab 'blue' (network 'x')",
    ]);
  });

  it('labs - too many members for capacity names the node and the numbers', () => {
    const bad = GOOD.replace('count: 4', 'count: 40');
    // 3 × 24 GiB free; the lab needs 1 + 4 + 40 × 2 = 85 GiB: the largest go first, seven members find no room
    expect(problemsOf(bad, demoInventory({ usedGiB: 40 }))).toEqual([
      "vms[2].count (line 25): no node has room for router (1 GiB), client-35 … client-40 (6 × 2 GiB): memory left after the lab's other members: pve1 0 MiB, pve2 0 MiB, pve3 0 MiB",
    ]);
    const pinned = GOOD.replace('    count: 4\n', '    count: 4\n    node: pve2\n').replace('memory: 2G', 'memory: 8G');
    expect(problemsOf(pinned, demoInventory({ usedGiB: 40 }))).toEqual([
      'vms[2].node (line 26): node pve2 has 24 GiB memory free, but this lab needs 32 GiB there: client-1 … client-4 (4 × 8 GiB)',
    ]);
  });

  it('labs - an unknown vnet names the NIC', () => {
    const bad = GOOD.replace(
      'networks: [{ vnet: lan, address: 10.30.0.10',
      'networks: [{ vnet: office, address: 10.30.0.10',
    );
    expect(problemsOf(bad)).toEqual(["vms[1].networks[0].vnet (line 21): unknown vnet 'office' (vnets: 'lan', 'dmz')"]);
  });

  it('labs - capacity is exact: a member fits a node with just its memory free, one MiB more does not', () => {
    const hosts = ['pve1', 'pve2', 'pve3'].map((node) => ({
      node,
      status: 'online' as const,
      maxmem: 8 * GiB,
      mem: 7 * GiB,
    }));
    const small = GOOD.replace('count: 4', 'count: 1')
      .replace('memory: 4G', 'memory: 1G')
      .replace('memory: 2G', 'memory: 1G');
    expect(problemsOf(small, demoInventory({ hosts }))).toEqual([]);
    expect(
      problemsOf(
        small.replace(
          'memory: 1G\n    networks: [{ vnet: lan, address: 10.30.0.100',
          'memory: 1025M\n    networks: [{ vnet: lan, address: 10.30.0.100',
        ),
        demoInventory({ hosts }),
      ),
    ).toEqual([
      "vms[2].memory (line 26): no node has room for client (1025 MiB): memory left after the lab's other members: pve1 0 MiB, pve2 0 MiB, pve3 1 GiB",
    ]);
  });
});
