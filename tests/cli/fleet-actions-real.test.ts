// Issue 11 from the command line against the real core on the PVE simulator (tests/cli/real-core.ts, the demo
// cluster 'lab'): snapshots read from the platform, dry runs that change nothing, selectors expanded by the core's
// gate, drain plans, containers in `vms`, backups; and bad input answered with one clear error, nothing changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/main';
import type { SimCoreToken } from '../helpers/sim-core';
import type { RealCoreHarness } from './real-core';
import { startRealCoreHarness } from './real-core';

let h: RealCoreHarness;
let olga: SimCoreToken;
let obi: SimCoreToken;
beforeAll(async () => {
  h = await startRealCoreHarness();
  olga = h.core.token('olga', 'operator');
  obi = h.core.token('obi', 'observer');
});
afterAll(() => h?.close());

const recorded = () => h.core.stack.store.requests.count();

describe('cli fleet on the real core', () => {
  it('cli fleet real - snapshots lab/111 lists the seeded snapshot with its description', async () => {
    const res = await h.cli(['snapshots', 'lab/111'], obi);
    expect(res.code, res.stderr).toBe(EXIT.ok);
    expect(res.stdout).toMatch(/^NAME\s+TIME\s+PARENT\s+DESCRIPTION$/m);
    expect(res.stdout).toMatch(/^before_upgrade\s+.*Grafana 10 -> 11$/m);
    expect((await h.cli(['snapshots', 'lab/999'], obi)).code).toBe(EXIT.notFound);
  });

  it('cli fleet real - a dry run answers the decision and the expansion and records nothing', async () => {
    const before = recorded();
    const migrate = await h.cli(['migrate', 'lab/100', 'pve2', '--dry-run'], olga);
    expect(migrate.code, migrate.stdout + migrate.stderr).toBe(EXIT.ok);
    expect(migrate.stdout).toMatch(/^dry run: migrate lab\/100 would be approved/);
    expect(migrate.stdout).toMatch(/nothing was done \(dry run\)\n$/);
    const stop = await h.cli(['stop', 'lab/@tag:ci,-107', '--dry-run', '--json'], olga);
    expect(JSON.parse(stop.stdout)).toMatchObject({ dryRun: true, members: [{ vmid: 106, action: 'stop' }] });
    const drain = await h.cli(['drain', 'lab/pve3', '--dry-run', '--json'], olga);
    const plan = JSON.parse(drain.stdout) as {
      dryRun: boolean;
      members: { vmid: number; action: string; params: { target: string } }[];
    };
    expect(plan.dryRun).toBe(true);
    const onPve3 = JSON.parse((await h.cli(['vms', '--node', 'pve3', '--json'], obi)).stdout) as {
      items: { vmid: number; template: boolean }[];
    };
    const expected = onPve3.items.filter((v) => !v.template).map((v) => v.vmid);
    expect(plan.members.map((m) => m.vmid).sort()).toEqual(expected.sort());
    for (const m of plan.members) {
      expect(m.action).toBe('migrate');
      expect(['pve1', 'pve2']).toContain(m.params.target);
    }
    expect(recorded()).toBe(before);
  });

  it('cli fleet real - a selector request is recorded with its members; the request shows them', async () => {
    const res = await h.cli(['snapshot', 'lab/@tag:range,-110', '--name', 'pre-upgrade', '--json'], olga);
    expect(res.code, res.stdout + res.stderr).toBe(EXIT.ok);
    const answer = JSON.parse(res.stdout) as { id: string; members: { vmid: number; action: string }[] };
    expect(answer.members.map((m) => [m.vmid, m.action]).sort()).toEqual([
      [108, 'snapshot'],
      [109, 'snapshot'],
    ]);
    const shown = await h.cli(['request', answer.id], obi);
    expect(shown.stdout).toMatch(/^target:\s+lab\/@tag:range,-110$/m);
    expect(shown.stdout).toMatch(
      /^2 members:\nGUEST\s+ACTION\s+PARAMS\nlab\/108\s+snapshot\s+\{"snapname":"pre-upgrade"\}$/m,
    );
  });

  it('cli fleet real - bad input is one clear error and changes nothing', async () => {
    const before = recorded();
    const cases: [string[], RegExp][] = [
      [['stop', 'lab/@colour:red', '--dry-run'], /@colour/],
      [['stop', 'lab/@tag:no-such-tag', '--dry-run'], /no-such-tag/],
      [['migrate', 'lab/100', 'pve1', '--dry-run'], /pve1/],
      [['rollback', 'lab/111', 'nosuch', '--dry-run'], /nosuch/],
    ];
    for (const [argv, mention] of cases) {
      const res = await h.cli(argv, olga);
      expect([EXIT.denied, EXIT.usage], argv.join(' ')).toContain(res.code);
      expect(res.stdout + res.stderr, argv.join(' ')).toMatch(mention);
    }
    expect(recorded()).toBe(before);
  });

  it('cli fleet real - vms --type filters by guest type; backups lists jobs and guests', async () => {
    const qemu = JSON.parse((await h.cli(['vms', '--type', 'qemu', '--json'], obi)).stdout) as {
      items: { type: string }[];
      total: number;
    };
    expect(qemu.total).toBeGreaterThan(0);
    for (const v of qemu.items) expect(v.type).toBe('qemu');
    const lxc = JSON.parse((await h.cli(['vms', '--type', 'lxc', '--json'], obi)).stdout) as {
      items: { vmid: number; type: string }[];
      total: number;
    };
    expect(lxc.total).toBeGreaterThan(0);
    for (const v of lxc.items) expect(v.type).toBe('lxc');
    const table = await h.cli(['vms'], obi);
    expect(table.stdout).toMatch(/^VM\s+TYPE\s+NAME/);
    expect(table.stdout).toMatch(new RegExp(`^lab/${lxc.items[0]!.vmid}\\s+ct\\s`, 'm'));
    const backups = await h.cli(['backups', 'lab'], obi);
    expect(backups.code, backups.stderr).toBe(EXIT.ok);
    expect(backups.stdout).toMatch(/^JOB\s+ENABLED\s+SCHEDULE\s+STORAGE\s+GUESTS$/m);
    expect(backups.stdout).toMatch(/^GUEST\s+NAME\s+NEWEST BACKUP\s+AGE\s+STORAGE\s+COUNT$/m);
  });
});
