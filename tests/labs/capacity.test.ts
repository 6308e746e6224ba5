import { describe, expect, it } from 'vitest';
import { formatIssue, type LabInventory, validateLab } from '../../machines/lab';
import { appliedAs, demoInventory, GiB, resolvedOf, specOf, THREE_TIER } from './helpers';

/** pve1–pve3 with 64 GiB each and the given GiB in use. */
const withUsed = (used: [number, number, number], extra: Partial<LabInventory> = {}): LabInventory => ({
  ...demoInventory(),
  hosts: used.map((u, i) => ({ node: `pve${i + 1}`, status: 'online' as const, maxmem: 64 * GiB, mem: u * GiB })),
  ...extra,
});

const labOf = (vms: string, networks = '') => `
name: cap
cluster: lab
${networks}
vms:
${vms}`;

const issues = (text: string, inventory: LabInventory) => validateLab(specOf(text), inventory).issues.map(formatIssue);

describe('labs - placement and capacity', () => {
  it('labs - automatic placement puts each member, largest first, on the node with the most memory left', () => {
    const r = resolvedOf(
      labOf(
        '  - { name: big, template: 9000, memory: 16G }\n  - { name: small, template: 9000, memory: 4G, count: 3 }',
      ),
      withUsed([40, 30, 20]),
    );
    // free: pve1 24, pve2 34, pve3 44 → big to pve3 (28 left); smalls: pve2 (30), pve2 (26)… most-left each time
    expect(r.members.map((m) => [m.name, m.node])).toEqual([
      ['big', 'pve3'],
      ['small-1', 'pve2'],
      ['small-2', 'pve2'],
      ['small-3', 'pve3'],
    ]);
  });

  it('labs - members pinned to a node that cannot hold them all are one issue naming the node and the numbers', () => {
    const text = labOf('  - { name: web, template: 9000, memory: 8G, count: 4, node: pve2 }');
    expect(issues(text, withUsed([0, 40, 0]))).toEqual([
      'vms[0].node: node pve2 has 24 GiB memory free, but this lab needs 32 GiB there: web-1 … web-4 (4 × 8 GiB)',
    ]);
  });

  it('labs - too many members for the cluster is one issue at the count, with what each node has left', () => {
    const text = labOf('  - { name: web, template: 9000, memory: 16G, count: 8 }');
    expect(issues(text, withUsed([30, 20, 10], { memReserveFraction: 0.1 }))).toEqual([
      // free after the reserve: 27.6, 37.6, 47.6 GiB; five fit (pve3, pve2, pve3, pve1, pve2), three do not
      "vms[0].count: no node has room for web-6, web-7, web-8 (3 × 16 GiB): memory left after the lab's other members: " +
        "pve1 11.6 GiB, pve2 5.6 GiB, pve3 15.6 GiB (after each node's 10% reserve)",
    ]);
  });

  it('labs - the template memory counts when the file gives none; offline nodes take nothing', () => {
    const inv = withUsed([0, 0, 0]);
    inv.hosts = inv.hosts.map((h) => (h.node === 'pve3' ? { ...h, status: 'offline' } : h));
    const r = resolvedOf(labOf('  - { name: a, template: 9000, count: 4 }'), inv);
    expect(r.members.map((m) => [m.memory, m.node])).toEqual([
      [2048, 'pve1'],
      [2048, 'pve2'],
      [2048, 'pve1'],
      [2048, 'pve2'],
    ]);
    expect(issues(labOf('  - { name: a, template: 9000, node: pve3 }'), inv)).toEqual([
      'vms[0].node: node pve3 is offline',
    ]);
    expect(issues(labOf('  - { name: a, template: 9000, node: pve9 }'), inv)).toEqual([
      "vms[0].node: unknown node 'pve9' (nodes: pve1, pve2, pve3)",
    ]);
  });

  it('labs - a simple zone keeps the whole lab on one node: the one with the most room', () => {
    const simple = 'networks:\n  zone: { type: simple }\n  vnets: [{ name: n }]';
    const r = resolvedOf(
      labOf('  - { name: a, template: 9000, count: 3 }\n  - { name: b, template: 9000 }', simple),
      withUsed([10, 5, 20]),
    );
    expect(new Set(r.members.map((m) => m.node))).toEqual(new Set(['pve2']));
    expect(
      issues(
        labOf('  - { name: a, template: 9000, node: pve1 }\n  - { name: b, template: 9000, node: pve2 }', simple),
        withUsed([0, 0, 0]),
      ),
    ).toEqual(['vms[1].node: a simple zone is local to one node, but b would run on pve2 and a would run on pve1']);
    expect(
      issues(labOf('  - { name: a, template: 9000, memory: 30G, count: 2 }', simple), withUsed([10, 10, 10])),
    ).toEqual([
      'vms: a simple zone keeps all 2 members on one node, and none has the 60 GiB they need: pve1 54 GiB free, pve2 54 GiB free, pve3 54 GiB free',
    ]);
  });

  it('labs - a template on local storage keeps its clones on its node', () => {
    const inv = withUsed([60, 0, 0]);
    inv.guests = inv.guests.map((g) => (g.vmid === 9000 ? { ...g, sharedStorage: false } : g));
    expect(issues(labOf('  - { name: a, template: 9000, memory: 8G }'), inv)).toEqual([
      'vms[0].template: node pve1 has 4 GiB memory free, but this lab needs 8 GiB there: a (8 GiB)',
    ]);
    inv.hosts = inv.hosts.map((h) => ({ ...h, mem: 0 }));
    expect(resolvedOf(labOf('  - { name: a, template: 9000, count: 2 }'), inv).members.map((m) => m.node)).toEqual([
      'pve1',
      'pve1',
    ]);
  });

  it('labs - members already running count only what they grow by; stopped ones count in full', () => {
    const inv = withUsed([0, 0, 0]);
    const desired = resolvedOf(THREE_TIER, inv);
    const actual = appliedAs(desired);
    // every node nearly full: what runs already is in `mem`, and the unchanged lab needs nothing more
    const full = withUsed([63, 63, 63]);
    expect(validateLab(desired.spec, full, actual).issues).toEqual([]);
    const again = validateLab(desired.spec, full, actual).resolved!;
    expect(again.members.map((m) => [m.node, m.placement])).toEqual(desired.members.map((m) => [m.node, 'existing']));
    // db stopped: starting it again needs its 4 GiB
    const stopped = {
      ...actual,
      members: actual.members.map((m) => (m.name === 'db' ? { ...m, status: 'stopped' as const } : m)),
    };
    expect(validateLab(desired.spec, full, stopped).issues.map(formatIssue)).toEqual([
      `vms[1].memory: node ${desired.members[1]!.node} has 1 GiB memory free, but this lab needs 4 GiB there: db (4 GiB)`,
    ]);
  });
});
