import { describe, expect, it } from 'vitest';
import { formatPlan, type LabActual, planDestroy, planLab } from '../../machines/lab';
import { appliedAs, resolvedOf, THREE_TIER } from './helpers';

const descriptions = (desired = resolvedOf(THREE_TIER), actual?: LabActual) =>
  planLab(desired, actual).items.map((i) => i.description);

/** THREE_TIER applied, then the file edited by `edit`: the plan of the edited file. */
function planAfterEdit(edit: (text: string) => string, change: (actual: LabActual) => LabActual = (a) => a) {
  const actual = change(appliedAs(resolvedOf(THREE_TIER)));
  return planLab(resolvedOf(edit(THREE_TIER), undefined, actual), actual);
}

describe('labs - plan', () => {
  it('labs - a first apply creates the pool, the networks, one SDN apply, then the members wave by wave', () => {
    const desired = resolvedOf(THREE_TIER);
    const nodeOf = (name: string) => desired.members.find((m) => m.name === name)!.node;
    expect(descriptions(desired)).toEqual([
      "create pool 'tt'",
      "create SDN zone 'tt' (vlan on vmbr0)",
      "create vnet 'front' (VLAN 101) in zone 'tt'",
      "create subnet 10.42.1.0/24 (gateway 10.42.1.1) on vnet 'front'",
      "create vnet 'back' (VLAN 102) in zone 'tt'",
      "create subnet 10.42.2.0/24 (gateway 10.42.2.1) on vnet 'back'",
      'apply the SDN configuration cluster-wide (PUT /cluster/sdn)',
      `create router: linked clone of 'debian-12-template' (9000) on ${nodeOf('router')}, 1 GiB, 3 NICs, wave 0`,
      `create db: linked clone of 'debian-12-template' (9000) on ${nodeOf('db')}, 4 GiB, 40 GiB disk, 1 NIC, wave 1`,
      `create web-1: linked clone of 'debian-12-template' (9000) on ${nodeOf('web-1')}, 1 core, 2 GiB, 1 NIC, wave 2`,
      `create web-2: linked clone of 'debian-12-template' (9000) on ${nodeOf('web-2')}, 1 core, 2 GiB, 1 NIC, wave 2`,
      `create web-3: linked clone of 'debian-12-template' (9000) on ${nodeOf('web-3')}, 1 core, 2 GiB, 1 NIC, wave 2`,
    ]);
    const plan = planLab(desired);
    const create = plan.items.find((i) => i.kind === 'member' && i.op === 'create');
    expect(create).toMatchObject({ member: { name: 'router', guestName: 'tt-router', template: { vmid: 9000 } } });
    expect(plan.items.find((i) => i.kind === 'zone')).toMatchObject({
      zone: { name: 'tt', type: 'vlan', bridge: 'vmbr0', dhcp: false },
    });
  });

  it('labs - applying the same file again plans nothing', () => {
    const desired = resolvedOf(THREE_TIER);
    const actual = appliedAs(desired);
    const again = resolvedOf(THREE_TIER, undefined, actual);
    const plan = planLab(again, actual);
    expect(plan.items).toEqual([]);
    expect(plan.issues).toEqual([]);
    expect(formatPlan(plan)).toEqual(["lab 'tt': no changes, the cluster matches the file"]);
  });

  it('labs - one more web member is one create, in its wave', () => {
    const plan = planAfterEdit((t) => t.replace('count: 3', 'count: 4'));
    expect(plan.items.map((i) => `${i.kind} ${i.op}`)).toEqual(['member create']);
    expect(plan.items[0]).toMatchObject({
      member: { name: 'web-4', wave: 2, config: { nics: [{ address: '10.42.1.14/24' }] } },
    });
  });

  it('labs - one web member less removes the last one, before anything is created', () => {
    const plan = planAfterEdit((t) => t.replace('count: 3', 'count: 2'));
    expect(plan.items.map((i) => i.description)).toEqual([
      `remove web-3 (VM 504 on ${(plan.items[0] as { node: string }).node})`,
    ]);
  });

  it('labs - raising a count from 1 renames the member instead of replacing it', () => {
    const plan = planAfterEdit((t) => t.replace('  - name: db\n', '  - name: db\n    count: 2\n'));
    expect(plan.items.map((i) => `${i.op} ${i.kind === 'member' && 'member' in i ? i.member.name : ''}`)).toEqual([
      'change db-1',
      'create db-2',
      // the webs depend on db, now on db-1 and db-2: their configuration does not change
    ]);
    expect(plan.items[0]!.description).toMatch(/^change db-1 \(VM 501 on pve\d\): name db → db-1$/);
  });

  it('labs - a changed size is a change in place; a running member restarts for memory, not for its disk', () => {
    const plan = planAfterEdit((t) => t.replace('memory: 4G\n    disk: 40G', 'memory: 8G\n    disk: 60G'));
    expect(plan.items).toHaveLength(1);
    expect(plan.items[0]).toMatchObject({ kind: 'member', op: 'change', vmid: 501, restart: true });
    expect(plan.items[0]!.description).toMatch(
      /^change db \(VM 501 on pve\d\): memory 4 GiB → 8 GiB, disk 40 GiB → 60 GiB \(restarts it\)$/,
    );
    const disk = planAfterEdit((t) => t.replace('disk: 40G', 'disk: 60G'));
    expect(disk.items[0]).toMatchObject({ op: 'change', restart: false });
  });

  it('labs - a NIC address and tags change in place, compared as PVE writes them', () => {
    const plan = planAfterEdit(
      (t) =>
        t
          .replace('address: 10.42.2.10,', 'address: 10.42.2.20,')
          .replace('  - name: db\n', '  - name: db\n    tags: [db, lab]\n'),
      (a) => ({
        ...a,
        members: a.members.map((m) => (m.name === 'db' ? { ...m, config: { ...m.config, tags: ['lab', 'db'] } } : m)),
      }),
    );
    expect(plan.items.map((i) => i.description)).toEqual([
      expect.stringMatching(
        /^change db \(VM 501 on pve\d\): net0 bridge=back,ip=10\.42\.2\.10\/24,gw=10\.42\.2\.1 → bridge=back,ip=10\.42\.2\.20\/24,gw=10\.42\.2\.1 \(restarts it\)$/,
      ),
    ]);
  });

  it('labs - a smaller disk or another template replaces the member (destroy and create)', () => {
    const shrink = planAfterEdit((t) => t.replace('disk: 40G', 'disk: 36G'));
    expect(shrink.items).toEqual([
      expect.objectContaining({ op: 'replace', vmid: 501, reasons: ['disk 40 GiB → 36 GiB (a disk cannot shrink)'] }),
    ]);
    const full = planAfterEdit((t) => t.replace('template: 9000', 'template: 9000\n    clone: full'));
    expect(full.items.map((i) => i.description)).toEqual([
      expect.stringMatching(/^replace db \(VM 501 on pve\d\): linked clone → full clone$/),
    ]);
  });

  it('labs - drift: a stopped member is started, a paused one resumed, a destroyed one recreated', () => {
    const plan = planAfterEdit(
      (t) => t,
      (a) => ({
        ...a,
        members: a.members.map((m) =>
          m.name === 'router'
            ? { ...m, status: 'stopped' as const }
            : m.name === 'db'
              ? { ...m, status: 'missing' as const }
              : m.name === 'web-2'
                ? { ...m, status: 'paused' as const }
                : m,
        ),
      }),
    );
    expect(plan.items.map((i) => i.description.replace(/ on pve\d/, ''))).toEqual([
      'start router (VM 500, stopped)',
      "recreate db: linked clone of 'debian-12-template' (9000), 4 GiB, 40 GiB disk, 1 NIC, wave 1 (VM 501 is gone)",
      'resume web-2 (VM 503, paused)',
    ]);
    expect(plan.items[1]).toMatchObject({ op: 'create', replaces: 501 });
  });

  it('labs - a VM taken out of the file is removed, last member first; a gone one is only forgotten', () => {
    const plan = planAfterEdit(
      (t) => t.replace(/ {2}- name: web[\s\S]*$/, ''),
      (a) => ({ ...a, members: a.members.map((m) => (m.name === 'web-2' ? { ...m, status: 'missing' as const } : m)) }),
    );
    expect(plan.items.map((i) => i.description.replace(/ on pve\d/, ''))).toEqual([
      'remove web-3 (VM 504)',
      'forget web-2 (VM 503 is already gone)',
      'remove web-1 (VM 502)',
    ]);
  });

  it('labs - networks: a new subnet and a changed gateway before the members, a dropped vnet after them', () => {
    const edited = (t: string) =>
      t
        .replace(
          'subnets: [{ cidr: 10.42.1.0/24, gateway: 10.42.1.1 }]',
          'subnets: [{ cidr: 10.42.1.0/24, gateway: 10.42.1.254 }, { cidr: 10.42.3.0/24 }]',
        )
        .replace('    - name: back\n      tag: 102\n      subnets: [{ cidr: 10.42.2.0/24, gateway: 10.42.2.1 }]\n', '')
        .replace('      - { vnet: back, address: 10.42.2.1 }\n', '')
        .replace(/ {2}- name: db[\s\S]*?dependsOn: \[router\]\n/, '')
        .replace('dependsOn: [db]', 'dependsOn: [router]');
    const plan = planAfterEdit(edited);
    expect(plan.items.map((i) => i.description.replace(/ on pve\d/, ''))).toEqual([
      "change subnet 10.42.1.0/24 on vnet 'front': gateway 10.42.1.1 → 10.42.1.254",
      "create subnet 10.42.3.0/24 on vnet 'front'",
      'apply the SDN configuration cluster-wide (PUT /cluster/sdn)',
      'remove db (VM 501)',
      expect.stringMatching(
        /^change router \(VM 500\): net2 bridge=back,ip=10\.42\.2\.1\/24 → \(none\) \(restarts it\)$/,
      ),
      "remove subnet 10.42.2.0/24 on vnet 'back'",
      "remove vnet 'back' (VLAN 102) in zone 'tt'",
      'apply the SDN configuration cluster-wide (PUT /cluster/sdn)',
    ]);
  });

  it('labs - a zone cannot change its type, and the pool cannot be renamed: issues, nothing to run', () => {
    const plan = planAfterEdit((t) => t.replace('bridge: vmbr0 }', 'bridge: vmbr1 }'));
    expect(plan.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      "networks.zone: the lab's zone is 'tt' (vlan on vmbr0): a zone cannot be renamed or change its type or bridge (destroy the lab first)",
    ]);
    const pool = planAfterEdit((t) => t.replace('cluster: lab', 'cluster: lab\npool: other'));
    expect(pool.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      "pool: the lab's pool is 'tt': a lab's pool cannot be renamed",
    ]);
  });

  it('labs - destroying a lab removes its members (last first), then its networks, then its pool', () => {
    const actual = appliedAs(resolvedOf(THREE_TIER));
    expect(planDestroy(actual).items.map((i) => i.description.replace(/ on pve\d/, ''))).toEqual([
      'remove web-3 (VM 504)',
      'remove web-2 (VM 503)',
      'remove web-1 (VM 502)',
      'remove db (VM 501)',
      'remove router (VM 500)',
      "remove subnet 10.42.1.0/24 on vnet 'front'",
      "remove vnet 'front' (VLAN 101) in zone 'tt'",
      "remove subnet 10.42.2.0/24 on vnet 'back'",
      "remove vnet 'back' (VLAN 102) in zone 'tt'",
      "remove SDN zone 'tt' (vlan on vmbr0)",
      'apply the SDN configuration cluster-wide (PUT /cluster/sdn)',
      "remove pool 'tt'",
    ]);
  });

  it('labs - formatPlan shows terraform-like lines and a summary', () => {
    const plan = planAfterEdit(
      (t) => t.replace('count: 3', 'count: 2').replace('memory: 4G', 'memory: 6G'),
      (a) => ({
        ...a,
        members: a.members.map((m) => (m.name === 'router' ? { ...m, status: 'stopped' as const } : m)),
      }),
    );
    expect(formatPlan(plan).map((l) => l.replace(/ on pve\d/, ''))).toEqual([
      '- remove web-3 (VM 504)',
      '> start router (VM 500, stopped)',
      '~ change db (VM 501): memory 4 GiB → 6 GiB (restarts it)',
      "lab 'tt': 0 to create, 1 to change, 0 to replace, 1 to start, 1 to remove",
    ]);
  });
});
