// overseer incidents | incident <id> | ack | resolve, and the open incidents in `overseer status`, against a real
// gateway over the fake core (i1: critical, being remediated by r9; i2: resolved).
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/main';
import type { CliHarness } from './setup';
import { startHarness } from './setup';

let h: CliHarness;
beforeEach(async () => {
  h = await startHarness();
});
afterEach(() => h.close());

describe('cli incidents', () => {
  it('cli - incidents lists them newest first as a table, and as JSON with --json', async () => {
    const res = await h.cli(['incidents']);
    expect(res.code).toBe(EXIT.ok);
    const lines = res.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+SEVERITY\s+STATE\s+KIND\s+SUBJECT\s+OPENED\s+ACK\s+DETAIL$/);
    expect(lines[1]).toMatch(
      /^i1\s+critical\s+remediating\s+vm-unexpected-stop\s+vm:lab\/101\s+\S+Z\s+-\s+VM lab\/101/,
    );
    expect(lines[2]).toMatch(/^i2\s+warning\s+resolved\s+host-overload/);
    const json = await h.cli(['incidents', '--state', 'unresolved', '--guest', 'lab/101', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ total: 1, offset: 0, items: [{ id: 'i1' }] });
  });

  it('cli - incidents pages with --limit and --offset and says how many there are', async () => {
    const res = await h.cli(['incidents', '--limit', '1']);
    expect(res.stdout.trimEnd().split('\n')).toHaveLength(2);
    expect(res.stderr).toBe('(1 of 2 incidents shown (more: --offset 1))\n');
    const next = await h.cli(['incidents', '--limit', '1', '--offset', '1', '--json']);
    expect(JSON.parse(next.stdout)).toMatchObject({ total: 2, items: [{ id: 'i2' }] });
  });

  it('cli - a bad --state or --guest exits 2 without asking the gateway', async () => {
    const state = await h.cli(['incidents', '--state', 'bogus']);
    expect(state.code).toBe(EXIT.usage);
    expect(state.stderr).toContain('--state must be one of open, remediating, escalated, resolved, unresolved');
    const guest = await h.cli(['incidents', '--guest', 'lab']);
    expect(guest.code).toBe(EXIT.usage);
    expect(guest.stderr).toContain('--guest must be <cluster>/<vmid>');
  });

  it('cli - incident <id> shows the timeline and the requests it caused; unknown exits 8', async () => {
    const res = await h.cli(['incident', 'i1']);
    expect(res.code).toBe(EXIT.ok);
    expect(res.stdout).toMatch(/^state:\s+remediating$/m);
    expect(res.stdout).toMatch(/^TIME\s+EVENT\s+BY\s+DETAIL$/m);
    expect(res.stdout).toMatch(/\s+remediation\s+-\s+start as request r9: under way$/m);
    expect(res.stdout).toMatch(/^r9\s+start\s+lab\/101\s+executing\s+approved/m);
    const json = await h.cli(['incident', 'i1', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: 'i1', requests: [{ id: 'r9' }] });
    const missing = await h.cli(['incident', 'nope']);
    expect(missing).toMatchObject({ code: EXIT.notFound, stderr: 'overseer: no incident nope\n' });
  });

  it('cli - ack records who (exit 0), a second ack is refused (exit 3); an observer exits 7', async () => {
    const observer = await h.cli(['ack', 'i1'], { token: h.core.tokens.observer });
    expect(observer.code).toBe(EXIT.auth);
    const res = await h.cli(['ack', 'i1', '--note', 'on it'], { token: h.core.tokens.operator });
    expect(res).toMatchObject({ code: EXIT.ok, stderr: '' });
    expect(res.stdout).toBe('incident i1 acknowledged by oscar (remediating); it pages no one until resolved\n');
    expect(h.core.incidents.items.get('i1')?.acknowledged).toMatchObject({ by: 'tok2', note: 'on it' });
    const again = await h.cli(['ack', 'i1']);
    expect(again.code).toBe(EXIT.denied);
    expect(again.stderr).toContain('already acknowledged by oscar');
  });

  it('cli - resolve closes it with the note; resolving it again exits 3', async () => {
    const res = await h.cli(['resolve', 'i1', '--note', 'VM retired', '--json']);
    expect(res.code).toBe(EXIT.ok);
    expect(JSON.parse(res.stdout)).toMatchObject({ state: 'resolved', outcome: 'resolved by ada: VM retired' });
    const again = await h.cli(['resolve', 'i1']);
    expect(again.code).toBe(EXIT.denied);
    expect(again.stderr).toBe('overseer: incident i1 is already resolved\n');
  });

  it('cli - status shows the open incidents by severity', async () => {
    const before = await h.cli(['status']);
    expect(before.stdout).toMatch(/^incidents:\s+1 open: critical 1 \(overseer incidents --state unresolved\)$/m);
    await h.cli(['resolve', 'i1']);
    const after = await h.cli(['status', '--json']);
    expect(JSON.parse(after.stdout).incidents).toEqual({ open: 0, bySeverity: {} });
    expect((await h.cli(['status'])).stdout).toMatch(/^incidents:\s+none open$/m);
  });

  it('cli - help lists the incident commands', async () => {
    const help = await h.cli(['help']);
    for (const name of ['incidents', 'incident', 'ack', 'resolve'])
      expect(help.stdout).toMatch(new RegExp(`^  ${name}\\s`, 'm'));
    expect((await h.cli(['ack', '--help'])).stdout).toContain('Usage: overseer ack <incident id> [--note text]');
  });
});
