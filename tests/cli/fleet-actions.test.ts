// Issue 11 from the command line, against a real gateway and the fake core (tests/cli/setup.ts): migrate, drain,
// undrain, snapshots, rollback, delsnapshot, backups, selectors, --dry-run, and the TYPE column of `vms`. A bad
// command line exits 2 with one clear sentence before the gateway is asked.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/main';
import type { CliHarness } from './setup';
import { startHarness } from './setup';

let h: CliHarness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.close());

/** The fake core's clock: backup ages are counted from it. */
const NOW = 1_700_000_000_000;
/** What reached the core, without who sent it and the CLI's one-off idempotency key. */
const submitted = () => h.core.submissions.map(({ requester: _, idempotencyKey: __, ...s }) => s);

describe('cli guests and types', () => {
  it('cli fleet - vms shows TYPE vm or ct and filters with --type; a wrong --type exits 2', async () => {
    h.core.vms.push({ ...h.core.vms[0]!, vmid: 200, name: 'ct-dns', type: 'lxc', pool: 'infra' });
    const all = await h.cli(['vms']);
    expect(all.code).toBe(EXIT.ok);
    const lines = all.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^VM\s+TYPE\s+NAME\s+NODE\s+STATUS/);
    expect(lines[1]).toMatch(/^lab\/101\s+vm\s+vm101\s+pve1\s+running/);
    expect(lines[4]).toMatch(/^lab\/200\s+ct\s+ct-dns\s+pve1\s+running/);
    const lxc = await h.cli(['vms', '--type', 'lxc', '--json']);
    expect(JSON.parse(lxc.stdout)).toMatchObject({ total: 1, items: [{ vmid: 200, type: 'lxc', pool: 'infra' }] });
    const vm = await h.cli(['vm', 'lab/200']);
    expect(vm.stdout).toMatch(/^type:\s+container \(lxc\)$/m);
    expect(vm.stdout).toMatch(/^pool:\s+infra$/m);
    const bad = await h.cli(['vms', '--type', 'ct']);
    expect(bad).toMatchObject({ code: EXIT.usage, stderr: "overseer: --type must be one of qemu, lxc (got 'ct')\n" });
  });

  it('cli fleet - migrate sends the node and the mode; --online with --offline exits 2', async () => {
    const res = await h.cli(['migrate', 'lab/101', 'pve2', '--online', '--with-local-disks']);
    expect(res.code).toBe(EXIT.ok);
    expect(res.stdout).toMatch(/^request r1: approved \(queued\)$/m);
    const offline = await h.cli(['migrate', 'lab/101', 'pve2', '--offline']);
    expect(offline.code).toBe(EXIT.ok);
    expect(submitted()).toEqual([
      {
        action: 'migrate',
        target: { cluster: 'lab', vmid: 101 },
        params: { target: 'pve2', online: true, withLocalDisks: true },
        force: false,
      },
      {
        action: 'migrate',
        target: { cluster: 'lab', vmid: 101 },
        params: { target: 'pve2', online: false },
        force: false,
      },
    ]);
    const both = await h.cli(['migrate', 'lab/101', 'pve2', '--online', '--offline']);
    expect(both).toMatchObject({ code: EXIT.usage, stderr: 'overseer: --online and --offline exclude each other\n' });
    const noNode = await h.cli(['migrate', 'lab/101']);
    expect(noNode.code).toBe(EXIT.usage);
    expect(noNode.stderr).toMatch(/^overseer: 'migrate' takes 2 arguments, got 1\nUsage: overseer migrate /);
    const badNode = await h.cli(['migrate', 'lab/101', 'pve 2']);
    expect(badNode.stderr).toBe("overseer: expected a node name, e.g. pve2 (got 'pve 2')\n");
    expect(h.core.submissions).toHaveLength(2);
  });

  it('cli fleet - drain prints its moves and awaits approval for a production guest; undrain ends it', async () => {
    const drain = await h.cli(['drain', 'lab/pve1', '--concurrency', '2']);
    expect(drain.code).toBe(EXIT.awaitingApproval);
    expect(drain.stdout).toMatch(/^request r1: awaiting approval$/m);
    expect(drain.stdout).toMatch(/^2 members:\nGUEST\s+ACTION\s+PARAMS\nlab\/101\s+migrate\s+\{"target":"pve2"\}\n/m);
    expect(drain.stdout).toMatch(/^lab\/114\s+migrate\s+\{"target":"pve2"\}$/m);
    const undrain = await h.cli(['undrain', 'lab/pve1']);
    expect(undrain.code).toBe(EXIT.ok);
    expect(submitted()).toEqual([
      { action: 'drain', target: { cluster: 'lab', node: 'pve1' }, params: { concurrency: 2 }, force: false },
      { action: 'undrain', target: { cluster: 'lab', node: 'pve1' }, params: {}, force: false },
    ]);
    const shown = await h.cli(['request', 'r1']);
    expect(shown.stdout).toMatch(/^target:\s+lab\/pve1$/m);
    expect(shown.stdout).toMatch(/^2 members:$/m);
    for (const [argv, message] of [
      [['drain', 'lab'], "overseer: expected <cluster>/<node>, e.g. lab/pve2 (got 'lab')\n"],
      [
        ['drain', 'lab/pve1', '--concurrency', '0'],
        "overseer: --concurrency must be a whole number of at least 1 (got '0')\n",
      ],
      [['undrain', 'lab/101/x'], "overseer: expected <cluster>/<node>, e.g. lab/pve2 (got 'lab/101/x')\n"],
    ] as const) {
      expect(await h.cli([...argv])).toMatchObject({ code: EXIT.usage, stderr: message });
    }
    expect(h.core.submissions).toHaveLength(2);
  });
});

describe('cli snapshots and backups', () => {
  it('cli fleet - snapshots lists name, time, parent and description; an unknown guest exits 8', async () => {
    const res = await h.cli(['snapshots', 'lab/101']);
    expect(res.code).toBe(EXIT.ok);
    expect(res.stdout).toBe(
      'NAME           TIME                  PARENT       DESCRIPTION\n' +
        'pre-upgrade    2023-11-14T19:26:40Z  -            before the kernel update\n' +
        'after_upgrade  2023-11-14T20:50:00Z  pre-upgrade  -\n',
    );
    const none = await h.cli(['snapshots', 'lab/102']);
    expect(none).toMatchObject({ code: EXIT.ok, stderr: '(lab/102 has no snapshots)\n' });
    const json = await h.cli(['snapshots', 'lab/101', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      total: 2,
      items: [{ name: 'pre-upgrade' }, { name: 'after_upgrade' }],
    });
    expect(await h.cli(['snapshots', 'lab/999'])).toMatchObject({
      code: EXIT.notFound,
      stderr: 'overseer: no VM lab/999\n',
    });
    expect((await h.cli(['snapshots', 'lab/@all'])).code).toBe(EXIT.usage);
  });

  it('cli fleet - rollback and delsnapshot name the snapshot; rollback takes --force', async () => {
    expect((await h.cli(['rollback', 'lab/114', 'pre-upgrade', '--force'])).code).toBe(EXIT.awaitingApproval);
    expect((await h.cli(['delsnapshot', 'lab/101', 'after_upgrade'])).code).toBe(EXIT.ok);
    expect(submitted()).toEqual([
      { action: 'rollback', target: { cluster: 'lab', vmid: 114 }, params: { snapname: 'pre-upgrade' }, force: true },
      {
        action: 'delsnapshot',
        target: { cluster: 'lab', vmid: 101 },
        params: { snapname: 'after_upgrade' },
        force: false,
      },
    ]);
    const missing = await h.cli(['rollback', 'lab/101']);
    expect(missing.stderr).toMatch(/^overseer: 'rollback' takes 2 arguments, got 1\n/);
    const spaced = await h.cli(['delsnapshot', 'lab/101', 'a b']);
    expect(spaced).toMatchObject({
      code: EXIT.usage,
      stderr: "overseer: expected a snapshot name, e.g. pre-upgrade (got 'a b')\n",
    });
    expect(await h.cli(['delsnapshot', 'lab/101', 'x', '--force'])).toMatchObject({ code: EXIT.usage });
  });

  it('cli fleet - backups prints the jobs, then each guest’s newest backup and its age; unreadable storages on stderr', async () => {
    const res = await h.cli(['backups'], { io: { now: () => NOW } });
    expect(res.code).toBe(EXIT.ok);
    const [jobs, guests] = res.stdout.split('\n\n');
    expect(jobs).toMatch(/^JOB\s+ENABLED\s+SCHEDULE\s+STORAGE\s+GUESTS\nlab\/backup-daily\s+yes\s+21:00\s+pbs\s+all$/);
    expect(guests).toMatch(/^GUEST\s+NAME\s+NEWEST BACKUP\s+AGE\s+STORAGE\s+COUNT$/m);
    expect(guests).toMatch(/^lab\/101\s+vm101\s+2023-11-14T20:13:20Z\s+2h 0m\s+pbs\s+3$/m);
    expect(guests).toMatch(/^lab\/102\s+vm102\s+-\s+never\s+-\s+0$/m);
    expect(res.stderr).toBe('storage lab/nfs-old could not be read: its backups are unknown\n');
    const one = await h.cli(['backups', 'lab/101', '--json']);
    expect(JSON.parse(one.stdout).guests).toEqual([expect.objectContaining({ vmid: 101, count: 3 })]);
    expect((await h.cli(['backups', 'lab/abc'])).code).toBe(EXIT.usage);
    const unknown = await h.cli(['backups', 'nope']);
    expect(unknown).toMatchObject({ code: EXIT.usage, stderr: "overseer: no cluster 'nope' (clusters: lab)\n" });
  });
});

describe('cli selectors and dry runs', () => {
  it('cli fleet - a selector stands for the guest; the answer lists the members', async () => {
    const res = await h.cli(['stop', 'lab/@node:pve1,-114']);
    expect(res.code).toBe(EXIT.ok);
    expect(res.stdout).toMatch(/^request r1: approved \(queued\)$/m);
    expect(res.stdout).toMatch(/^1 member:\nGUEST\s+ACTION\s+PARAMS\nlab\/101\s+stop\s+-$/m);
    expect(submitted()).toEqual([
      { action: 'stop', target: { cluster: 'lab', selector: '@node:pve1,-114' }, params: {}, force: false },
    ]);
    const list = await h.cli(['requests']);
    expect(list.stdout).toMatch(/^r1\s+stop\s+lab\/@node:pve1,-114\s+queued/m);
    const snap = await h.cli(['snapshot', 'lab/@tag:web', '--name', 'pre-upgrade', '--json']);
    expect(JSON.parse(snap.stdout)).toMatchObject({ members: [{ vmid: 102, action: 'snapshot' }] });
    const spaced = await h.cli(['stop', 'lab/@tag:web -105']);
    expect(spaced.code).toBe(EXIT.usage);
    expect(spaced.stderr).toMatch(/^overseer: expected <cluster>\/<vmid> or <cluster>\/@<selector>/);
  });

  it('cli fleet - --dry-run prints the decision, the checks and the members, says nothing was done, exits as decided', async () => {
    const denied = await h.cli(['stop', 'lab/@all', '--dry-run']);
    expect(denied.code).toBe(EXIT.denied);
    const out = denied.stdout.split('\n');
    expect(out[0]).toBe('dry run: stop lab/@all would be denied: VM 114 is production: needs force');
    expect(denied.stdout).toMatch(/^CHECK\s+OUTCOME\s+REASON\nauthorization\s+pass/m);
    expect(denied.stdout).toMatch(/^production\s+deny\s+VM 114 is production: needs force$/m);
    expect(denied.stdout).toMatch(
      /^3 members:\nGUEST\s+ACTION\s+PARAMS\nlab\/101\s+stop\s+-\nlab\/102\s+stop\s+-\nlab\/114\s+stop\s+-\n/m,
    );
    expect(denied.stdout.endsWith('nothing was done (dry run)\n')).toBe(true);
    const approved = await h.cli(['migrate', 'lab/101', 'pve2', '--dry-run']);
    expect(approved.code).toBe(EXIT.ok);
    expect(approved.stdout).toMatch(/^dry run: migrate lab\/101 would be approved\n/);
    const drain = await h.cli(['drain', 'lab/pve1', '--dry-run', '--json']);
    expect(drain.code).toBe(EXIT.awaitingApproval);
    expect(JSON.parse(drain.stdout)).toMatchObject({
      dryRun: true,
      decision: 'awaiting_approval',
      members: [{ vmid: 101 }, { vmid: 114 }],
    });
    const deploy = await h.cli(['deploy', 'lab', '--template', '9000', '--node', 'pve1', '--name', 'x', '--dry-run']);
    expect(deploy).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(h.core.submissions.every((s) => s.dryRun === true)).toBe(true);
    expect(h.core.requests.size).toBe(0);
    const wait = await h.cli(['start', 'lab/102', '--dry-run', '--wait']);
    expect(wait).toMatchObject({
      code: EXIT.usage,
      stderr: 'overseer: --wait has nothing to follow with --dry-run (nothing is recorded)\n',
    });
  });

  it('cli fleet - help covers every new command, --dry-run and selectors', async () => {
    const help = (await h.cli(['help'])).stdout;
    for (const name of ['migrate', 'drain', 'undrain', 'snapshots', 'rollback', 'delsnapshot', 'backups']) {
      expect(help).toMatch(new RegExp(`^  ${name}\\s+\\S`, 'm'));
    }
    expect(help).toMatch(/^ {2}--dry-run\s+\(requests\) ask the gate only/m);
    expect(help).toContain('(overseer stop lab/@tag:web,-105)');
    const migrate = (await h.cli(['migrate', '--help'])).stdout;
    expect(migrate).toMatch(/^Usage: overseer migrate <cluster>\/<vmid\|@selector> <node> \[--online\|--offline\]/);
    for (const flag of ['--online', '--offline', '--with-local-disks', '--dry-run', '--wait'])
      expect(migrate).toContain(flag);
    expect(migrate).toContain('@tag:<tag>');
    expect((await h.cli(['drain', '--help'])).stdout).toContain('--concurrency <value>');
    expect((await h.cli(['backups', '--help'])).stdout).toMatch(/^Usage: overseer backups \[<cluster>\[\/<vmid>\]\]/);
  });
});
