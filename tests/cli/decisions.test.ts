// The CLI against the real core on the simulator (tests/cli/real-core.ts): reasons given with approve, deny and
// cancel are shown (request, --json, the history's NOTE column), the decision is the final one with who took it,
// "nothing to do" exits 0 with its reason, and a snapshot name already used is denied at the gate.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/main';
import type { SimCoreToken } from '../helpers/sim-core';
import type { RealCoreHarness } from './real-core';
import { startRealCoreHarness } from './real-core';

let h: RealCoreHarness;
let alice: SimCoreToken;
let bob: SimCoreToken;
beforeAll(async () => {
  h = await startRealCoreHarness();
  alice = h.core.token('alice', 'admin');
  bob = h.core.token('bob', 'admin');
});
afterAll(() => h?.close());

/** alice's forced stop of a running production VM (114, 115): it awaits a second person's approval. Its id. */
async function awaitingStop(vm = 'lab/114'): Promise<string> {
  const res = await h.cli(['stop', vm, '--force', '--json'], alice);
  expect(res.code, res.stderr).toBe(EXIT.awaitingApproval);
  return JSON.parse(res.stdout).id as string;
}

async function ended(id: string): Promise<void> {
  expect(await h.core.ended(id)).toBe(true);
}

describe('cli decisions on the real core', () => {
  it('cli - deny --reason: the reason is in request, --json and the NOTE column; the decision names who took it', async () => {
    const id = await awaitingStop();
    const denied = await h.cli(['deny', id, '--reason', 'not during the sale'], bob);
    expect(denied).toMatchObject({ code: EXIT.ok, stdout: `request ${id}: denied\n` });

    const shown = await h.cli(['request', id], alice);
    expect(shown.code).toBe(EXIT.ok);
    expect(shown.stdout).toMatch(/^status:\s+denied$/m);
    expect(shown.stdout).toMatch(/^decision:\s+denied$/m);
    expect(shown.stdout).toMatch(new RegExp(`^decided by:\\s+bob \\(token ${bob.id}\\) at \\S+Z$`, 'm'));
    expect(shown.stdout).toMatch(/^decision note:\s+not during the sale$/m);
    expect(shown.stdout).toMatch(/^AT\s+STATUS\s+BY\s+NOTE$/m);
    expect(shown.stdout).toMatch(/\sdenied\s+bob\s+not during the sale$/m);

    const json = JSON.parse((await h.cli(['request', id, '--json'], alice)).stdout);
    expect(json).toMatchObject({
      status: 'denied',
      decision: 'denied',
      decidedBy: { kind: 'person', id: bob.id, name: 'bob', reason: 'not during the sale' },
    });
    expect(json.history.at(-1)).toMatchObject({ status: 'denied', by: bob.id, note: 'not during the sale' });
  });

  it('cli - approve --reason: once completed, the decision is approved, by whom and why', async () => {
    const id = await awaitingStop();
    const approved = await h.cli(['approve', id, '--reason', 'maintenance window agreed'], bob);
    expect(approved.code, approved.stderr).toBe(EXIT.ok);
    await ended(id);

    const shown = await h.cli(['request', id], alice);
    expect(shown.stdout).toMatch(/^status:\s+completed$/m);
    expect(shown.stdout).toMatch(/^decision:\s+approved$/m);
    expect(shown.stdout).toMatch(/^decided by:\s+bob \(token /m);
    expect(shown.stdout).toMatch(/^decision note:\s+maintenance window agreed$/m);
    expect(shown.stdout).toMatch(/\sapproved\s+bob\s+maintenance window agreed$/m);
    const listed = JSON.parse((await h.cli(['requests', '--status', 'completed', '--json'], alice)).stdout) as {
      items: { id: string; decision: string }[];
    };
    expect(listed.items.find((r) => r.id === id)?.decision).toBe('approved');
  });

  it('cli - cancel --reason: the reason is the NOTE of the cancellation', async () => {
    // 114 was stopped by the approved request above: stopping it again would be nothing to do.
    const id = await awaitingStop('lab/115');
    expect((await h.cli(['cancel', id, '--reason', 'wrong VM'], alice)).code).toBe(EXIT.ok);
    const json = JSON.parse((await h.cli(['request', id, '--json'], bob)).stdout);
    expect(json.status).toBe('cancelled');
    expect(json.history.at(-1)).toMatchObject({ status: 'cancelled', by: alice.id, note: 'wrong VM' });
    const shown = await h.cli(['request', id], bob);
    expect(shown.stdout).toMatch(/\scancelled\s+alice\s+wrong VM$/m);
    expect(shown.stdout).toMatch(/^decision:\s+never_approved$/m);
    expect(shown.stdout).toMatch(/^cancelled:\s+by alice: wrong VM$/m);
    const listed = await h.cli(['requests', '--status', 'cancelled'], bob);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s.*\\scancelled\\s+never_approved\\s`, 'm'));
    // waited on, an ended request says who closed it and why, by the name of their token
    const waited = await h.cli(['request', id, '--wait'], bob);
    expect(waited.stderr).toMatch(/^cancelled by alice: wrong VM$/m);
  });

  it('cli - stop of a stopped VM exits 0: "nothing to do: VM lab/102 is already stopped"', async () => {
    const res = await h.cli(['stop', 'lab/102'], alice);
    expect(res.code).toBe(EXIT.ok);
    expect(res.stderr).toBe('');
    expect(res.stdout).toMatch(/^request \S+: nothing to do: VM lab\/102 is already stopped$/m);
    const json = await h.cli(['stop', 'lab/102', '--json'], alice);
    expect(json.code).toBe(EXIT.ok);
    const answer = JSON.parse(json.stdout);
    expect(answer).toMatchObject({
      decision: 'nothing_to_do',
      status: 'nothing_to_do',
      reasons: ['VM lab/102 is already stopped'],
    });
    const shown = await h.cli(['request', answer.id], alice);
    expect(shown.stdout).toMatch(/^status:\s+nothing_to_do$/m);
    expect(shown.stdout).toMatch(/^decided by:\s+the gate$/m);
    const listed = await h.cli(['requests', '--status', 'nothing_to_do', '--json'], alice);
    expect(JSON.parse(listed.stdout).items.map((r: { id: string }) => r.id)).toContain(answer.id);
    expect(h.core.stack.sim.oplog.filter((e) => e.vmid === 102 && e.op === 'stop')).toEqual([]);
  });

  it('cli - snapshot "before" twice: the second is denied at the gate (exit 3), once, without doubled words', async () => {
    const first = await h.cli(['snapshot', 'lab/103', '--name', 'before', '--json'], alice);
    expect(first.code, first.stderr).toBe(EXIT.ok);
    await ended(JSON.parse(first.stdout).id);

    const second = await h.cli(['snapshot', 'lab/103', '--name', 'before'], alice);
    expect(second.code).toBe(EXIT.denied);
    expect(second.stdout).toMatch(/^request \S+: denied$/m);
    expect(second.stdout).not.toMatch(/denied \(denied\)/);
    expect(second.stdout).toMatch(
      /^snapshotName\s+deny\s+VM lab\/103 \(db-01\) already has a snapshot named 'before'$/m,
    );
    expect(second.stderr).toBe("denied: VM lab/103 (db-01) already has a snapshot named 'before'\n");
    const snapshots = h.core.stack.sim.oplog.filter(
      (e) => e.vmid === 103 && e.op === 'snapshot' && e.result === 'started',
    );
    expect(snapshots).toHaveLength(1);
  });
});
