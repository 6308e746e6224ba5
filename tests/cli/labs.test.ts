// The lab commands against a real gateway and the fake core (tests/gateway/fake-labs.ts, whose labs move one step per
// read): apply (its decision and exit code; --wait with its progress as lines or redrawn, --json), status, list,
// and approve, deny, destroy, snapshot and revert; refusals keep the gateway's exit codes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/main';
import { MAX_LAB_FILE_LENGTH } from '../../protocol';
import type { CliHarness } from './setup';
import { startHarness } from './setup';

let h: CliHarness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

const labFile = (name: string, vm: string[] = []): string =>
  [`name: ${name}`, 'cluster: lab', 'vms:', '  - name: app', '    template: debian-12', '    count: 2', ...vm, ''].join(
    '\n',
  );

/** Runs `overseer <argv>` with `files` readable by name; progress as lines unless `progress` says otherwise. */
const cli = (
  argv: string[],
  opts: { token?: string; files?: Record<string, string>; progress?: 'lines' | 'live' } = {},
) =>
  h.cli(argv, {
    ...(opts.token !== undefined ? { token: opts.token } : {}),
    env: { OVERSEER_PROGRESS: opts.progress ?? 'lines' },
    io: {
      readFile: async (path) => {
        const text = opts.files?.[path];
        if (text === undefined) throw new Error(`ENOENT: no such file, open '${path}'`);
        return text;
      },
    },
  });

describe('cli lab apply', () => {
  it('cli lab apply - the decision: deploying exits 0 with the checks and the plan, and says how to follow it', async () => {
    const res = await cli(['lab', 'apply', 'one.yaml'], {
      token: h.core.tokens.operator,
      files: { 'one.yaml': labFile('one') },
    });
    expect(res.code, res.stderr).toBe(EXIT.ok);
    expect(res.stdout).toMatch(/^lab one \(lab\): networks \(approved\)$/m);
    expect(res.stdout).toMatch(/^authorization\s+pass\s+operator may deploy$/m);
    expect(res.stdout).toMatch(/^\+ create vm 'one-app-1'$/m);
    expect(res.stderr).toBe('follow it: overseer lab status one --wait\n');
    expect(h.core.labs.labs.get('lab/one')?.view.requester.id).toBe('tok2');
  });

  it('cli lab apply - --wait prints each member’s change as a line and ends ready (exit 0)', async () => {
    const res = await cli(['lab', 'apply', 'two.yaml', '--wait', '--interval', '0'], {
      token: h.core.tokens.operator,
      files: { 'two.yaml': labFile('two') },
    });
    expect(res.code, res.stderr).toBe(EXIT.ok);
    const lines = res.stderr.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        'lab two (lab): networks',
        'app-1: planned',
        'lab two: networks → cloning',
        'app-1: planned → cloning',
        'app-1: cloning → cloned (vmid 300 on pve1)',
        'app-2: cloning → cloned (vmid 301 on pve2)',
        'app-2: booting → ready',
        'lab two: starting → ready',
      ]),
    );
    expect(res.stderr).not.toContain('\x1b[');
    expect(res.stdout).toMatch(/^lab two \(lab\): ready$/m);
    expect(res.stdout).toMatch(/^NAME\s+VM\s+VMID\s+NODE\s+PHASE$/m);
    expect(res.stdout).toMatch(/^app-2\s+app\s+301\s+pve2\s+ready$/m);
  });

  it('cli lab apply - on a terminal the members are redrawn in place; --json prints the final lab', async () => {
    const res = await cli(['lab', 'apply', 'three.yaml', '--wait', '--json'], {
      token: h.core.tokens.operator,
      files: { 'three.yaml': labFile('three') },
      progress: 'live',
    });
    expect(res.code, res.stderr).toBe(EXIT.ok);
    const lab = JSON.parse(res.stdout);
    expect(lab).toMatchObject({ name: 'three', status: 'ready', members: [{ phase: 'ready' }, { phase: 'ready' }] });
    // Each redraw moves up over the block (a line for the lab, the header, a line per member) and clears it.
    expect(res.stderr).toContain('\x1b[4A\x1b[J');
    expect(res.stderr).toContain('\x1b[4A\x1b[Jlab three (lab): cloning\n');
    expect(res.stderr).toMatch(/^app-1\s+app\s+300\s+pve1\s+configuring$/m);
    expect(res.stderr.endsWith('\x1b[4A\x1b[J')).toBe(true);
  });

  it('cli lab apply - a member that fails its clone rolls the lab back: exit 4 with the failure', async () => {
    const broken = labFile('four', ['  - name: bad', '    template: broken']);
    const res = await cli(['lab', 'apply', 'four.yaml', '--wait'], {
      token: h.core.tokens.operator,
      files: { 'four.yaml': broken },
    });
    expect(res.code).toBe(EXIT.failed);
    expect(res.stderr).toMatch(/^bad: cloning → failed: clone of four-bad failed: template broken is locked$/m);
    expect(res.stderr).toMatch(/^lab four: rolling back → rolled back$/m);
    expect(res.stderr).toMatch(/^bad: failed → removed$/m);
    expect(res.stderr).toMatch(/^rolled back: clone bad: clone of four-bad failed/m);
    expect(res.stdout).toMatch(/^lab four \(lab\): rolled back$/m);
  });

  it('cli lab apply - a lab the gate sends for approval exits 5 (with --wait too), with the reason', async () => {
    const prod = { 'prod.yaml': labFile('prod', ['    tags: [prod]']) };
    const res = await cli(['lab', 'apply', 'prod.yaml'], { token: h.core.tokens.operator, files: prod });
    expect(res.code).toBe(EXIT.awaitingApproval);
    expect(res.stdout).toMatch(/^lab prod \(lab\): awaiting approval \(awaiting approval\)$/m);
    expect(res.stderr).toBe(
      'awaiting approval: a member is tagged prod: a second person must approve (overseer lab approve prod)\n',
    );
    const other = { 'prod2.yaml': labFile('prod2', ['    tags: [prod]']) };
    const waited = await cli(['lab', 'apply', 'prod2.yaml', '--wait', '--json'], {
      token: h.core.tokens.operator,
      files: other,
    });
    expect(waited.code).toBe(EXIT.awaitingApproval);
    expect(JSON.parse(waited.stdout)).toMatchObject({ status: 'awaiting_approval' });
  });

  it('cli lab apply - refusals: an observer (7), a bad file (2, naming its path), an unreadable file (2)', async () => {
    const observer = await cli(['lab', 'apply', 'x.yaml'], {
      token: h.core.tokens.observer,
      files: { 'x.yaml': labFile('x') },
    });
    expect(observer.code).toBe(EXIT.auth);
    const bad = await cli(['lab', 'apply', 'bad.yaml'], {
      token: h.core.tokens.operator,
      files: { 'bad.yaml': labFile('bad', ['    colour: blue']) },
    });
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toMatch(/^overseer: vms\[0\]\.colour.*unknown key 'colour'/);
    const missing = await cli(['lab', 'apply', 'nope.yaml'], { token: h.core.tokens.operator });
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toMatch(/^overseer: cannot read the lab file nope\.yaml: ENOENT/);
    // An empty file, or one too long for the wire, is named before anything is sent.
    const files = { 'empty.yaml': ' \n', 'big.yaml': 'x'.repeat(MAX_LAB_FILE_LENGTH + 1) };
    const empty = await cli(['lab', 'plan', 'empty.yaml'], { token: h.core.tokens.operator, files });
    expect(empty).toMatchObject({ code: EXIT.usage, stderr: 'overseer: empty.yaml: the file is empty\n' });
    const big = await cli(['lab', 'apply', 'big.yaml'], { token: h.core.tokens.operator, files });
    expect(big.code).toBe(EXIT.usage);
    expect(big.stderr).toMatch(/^overseer: big\.yaml: the lab file is 524289 characters long, more than 524288$/m);
  });
});

describe('cli lab reads', () => {
  it('cli lab status - status, decision, snapshots, expiry and the members table; unknown is 8, a bad name 2', async () => {
    const res = await cli(['lab', 'status', 'web', '--cluster', 'lab'], { token: h.core.tokens.observer });
    expect(res.code, res.stderr).toBe(EXIT.ok);
    expect(res.stdout).toMatch(/^status:\s+ready$/m);
    expect(res.stdout).toMatch(/^decision:\s+approved$/m);
    expect(res.stdout).toMatch(/^requester:\s+oscar \(token tok2, operator\)$/m);
    expect(res.stdout).toMatch(/^snapshots:\s+base \(\S+Z, 2 members\)$/m);
    expect(res.stdout).toMatch(/^expires:\s+\S+Z$/m);
    expect(res.stdout).toMatch(/^NAME\s+VM\s+VMID\s+NODE\s+PHASE$/m);
    expect(res.stdout).toMatch(/^web-1\s+web\s+201\s+pve1\s+ready$/m);
    expect(res.stdout).toMatch(/^authorization\s+pass/m);

    const review = await cli(['lab', 'status', 'review', '--json'], { token: h.core.tokens.observer });
    expect(JSON.parse(review.stdout)).toMatchObject({ status: 'awaiting_approval', members: [{ name: 'db' }] });
    const missing = await cli(['lab', 'status', 'nope'], { token: h.core.tokens.observer });
    expect(missing).toMatchObject({ code: EXIT.notFound, stderr: 'overseer: no lab nope\n' });
    const bad = await cli(['lab', 'status', 'no_such'], { token: h.core.tokens.observer });
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toMatch(/expected a lab name/);
  });

  it('cli lab list - NAME CLUSTER STATUS MEMBERS UPDATED, live labs by default, all with --all', async () => {
    const res = await cli(['lab', 'list'], { token: h.core.tokens.observer });
    expect(res.code).toBe(EXIT.ok);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+CLUSTER\s+STATUS\s+MEMBERS\s+UPDATED$/);
    expect(res.stdout).toMatch(/^web\s+lab\s+ready\s+2\s+\S+Z$/m);
    expect(res.stdout).not.toMatch(/^old\s/m);
    const all = await cli(['lab', 'list', '--all', '--json'], { token: h.core.tokens.observer });
    const names = JSON.parse(all.stdout).items.map((l: { name: string }) => l.name);
    expect(names).toEqual(expect.arrayContaining(['web', 'review', 'old']));
    const page = await cli(['lab', 'list', '--all', '--limit', '1'], { token: h.core.tokens.observer });
    expect(page.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(page.stderr).toMatch(/^\(1 of \d+ labs shown \(more: --offset 1\)\)$/m);
    const badCluster = await cli(['lab', 'list', '--cluster', '-x'], { token: h.core.tokens.observer });
    expect(badCluster.code).toBe(EXIT.usage);
  });

  it('cli lab - the group lists its commands', async () => {
    const res = await cli(['lab', '--help']);
    expect(res.code).toBe(EXIT.ok);
    for (const word of ['plan', 'apply', 'status', 'list', 'approve', 'deny', 'destroy', 'snapshot', 'revert']) {
      expect(res.stdout).toMatch(new RegExp(`^  lab ${word}\\s`, 'm'));
    }
  });
});

describe('cli lab commands', () => {
  it('cli lab snapshot - --wait ends ready with the snapshot listed; a bad name is refused before any call', async () => {
    const bad = await cli(['lab', 'snapshot', 'web', 'pre upgrade'], { token: h.core.tokens.operator });
    expect(bad.code).toBe(EXIT.usage);
    expect(bad.stderr).toMatch(/expected a snapshot name \(got 'pre upgrade'\): a snapshot name: a letter/);
    const res = await cli(['lab', 'snapshot', 'web', 'pre-upgrade', '--wait', '--json'], {
      token: h.core.tokens.operator,
    });
    expect(res.code, res.stderr).toBe(EXIT.ok);
    expect(res.stderr).toMatch(/^lab web: snapshotting → ready$/m);
    const lab = JSON.parse(res.stdout);
    expect(lab.snapshots.map((s: { name: string }) => s.name)).toEqual(['base', 'pre-upgrade']);
  });

  it('cli lab revert - an unknown snapshot is the core’s refusal (2); a known one reverts', async () => {
    const unknown = await cli(['lab', 'revert', 'web', 'nope'], { token: h.core.tokens.operator });
    expect(unknown.code).toBe(EXIT.usage);
    expect(unknown.stderr).toMatch(/^overseer: snapshot: lab web has no snapshot 'nope' \(it has: base/);
    const res = await cli(['lab', 'revert', 'web', 'base'], { token: h.core.tokens.operator });
    expect(res).toMatchObject({ code: EXIT.ok, stdout: 'lab web (lab): reverting\n' });
    await cli(['lab', 'status', 'web'], { token: h.core.tokens.operator });
  });

  it('cli lab approve and deny - not by the requester; a second person approves, the requester cancels', async () => {
    const own = await cli(['lab', 'approve', 'draft'], { token: h.core.tokens.operator });
    expect(own.code).toBe(EXIT.auth);
    expect(own.stderr).toBe('overseer: the requester cannot approve their own lab\n');
    const prod = { 'p.yaml': labFile('approved', ['    tags: [prod]']) };
    expect((await cli(['lab', 'apply', 'p.yaml'], { token: h.core.tokens.operator, files: prod })).code).toBe(
      EXIT.awaitingApproval,
    );
    const approved = await cli(['lab', 'approve', 'approved', '--reason', 'looks fine', '--wait'], {
      token: h.core.tokens.admin,
    });
    expect(approved.code, approved.stderr).toBe(EXIT.ok);
    expect(approved.stdout).toMatch(/^lab approved \(lab\): ready$/m);
    expect(h.core.labs.labs.get('lab/approved')?.view.approvedBy).toMatchObject({ id: 'tok3', reason: 'looks fine' });

    const cancelled = await cli(['lab', 'deny', 'draft', '--reason', 'not needed'], { token: h.core.tokens.operator });
    expect(cancelled).toMatchObject({ code: EXIT.ok, stdout: 'lab draft (lab): cancelled\n' });
    const again = await cli(['lab', 'deny', 'draft'], { token: h.core.tokens.admin });
    expect(again.code).toBe(EXIT.denied);
    expect(again.stderr).toBe('overseer: lab draft has ended (cancelled)\n');
    const unknown = await cli(['lab', 'deny', 'nope'], { token: h.core.tokens.admin });
    expect(unknown).toMatchObject({ code: EXIT.notFound, stderr: 'overseer: no lab nope\n' });
  });

  it('cli lab destroy - an operator may not (7); --wait follows the teardown to destroyed (exit 0)', async () => {
    const files = { 'gone.yaml': labFile('gone') };
    expect((await cli(['lab', 'apply', 'gone.yaml', '--wait'], { token: h.core.tokens.operator, files })).code).toBe(
      EXIT.ok,
    );
    const operator = await cli(['lab', 'destroy', 'gone'], { token: h.core.tokens.operator });
    expect(operator.code).toBe(EXIT.auth);
    const res = await cli(['lab', 'destroy', 'gone', '--wait'], { token: h.core.tokens.admin });
    expect(res.code, res.stderr).toBe(EXIT.ok);
    expect(res.stderr).toMatch(/^lab gone: tearing down → destroyed$/m);
    expect(res.stderr).toMatch(/^app-1: ready → removed$/m);
    expect(res.stdout).toMatch(/^lab gone \(lab\): destroyed$/m);
    const after = await cli(['lab', 'status', 'gone', '--json'], { token: h.core.tokens.observer });
    expect(JSON.parse(after.stdout)).toMatchObject({ status: 'destroyed', ended: true });
  });
});
