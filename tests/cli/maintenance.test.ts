// overseer maintenance start|list|end and silence add|list|remove against the real core on the simulator
// (tests/cli/real-core.ts): a guest, node or tag in maintenance makes the gate send a person's request for approval,
// naming the window; ending it brings the gate back; a bad command line exits 2 before the gateway is asked.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDuration } from '../../cli/commands/maintenance';
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

const idOf = (stdout: string): string => /^maintenance (m-[0-9a-f]{8}):/.exec(stdout)?.[1] ?? '';

describe('cli maintenance on the real core', () => {
  it('cli - maintenance start <guest>: a request against it awaits approval and the gate names the window', async () => {
    const started = await h.cli(['maintenance', 'start', 'lab/101', '--for', '2h', '--reason', 'disk swap'], olga);
    expect(started.code, started.stderr).toBe(EXIT.ok);
    expect(started.stdout).toMatch(/^maintenance m-[0-9a-f]{8}: guest lab\/101 until \S+Z \(disk swap\)\n$/);
    const id = idOf(started.stdout);

    const stop = await h.cli(['stop', 'lab/101'], olga);
    expect(stop.code).toBe(EXIT.awaitingApproval);
    expect(stop.stdout + stop.stderr).toContain(
      `VM lab/101 (web-02) is in maintenance (guest lab/101 until 1970-01-01T02:00:00Z, by olga: disk swap (${id})): ` +
        "acting on it needs a second person's approval",
    );

    const list = await h.cli(['maintenance', 'list'], obi);
    expect(list.code).toBe(EXIT.ok);
    expect(list.stdout).toMatch(/^ID\s+SCOPE\s+TARGET\s+STATE\s+FROM\s+UNTIL\s+BY\s+REASON$/m);
    expect(list.stdout).toMatch(
      new RegExp(`^${id}\\s+guest\\s+lab/101\\s+active\\s+\\S+Z\\s+\\S+Z\\s+olga\\s+disk swap$`, 'm'),
    );

    const ended = await h.cli(['maintenance', 'end', id], olga);
    expect(ended).toMatchObject({
      code: EXIT.ok,
      stdout: `maintenance ${id} ended: guest lab/101 is watched over again\n`,
    });
    const again = await h.cli(['maintenance', 'end', id], olga);
    expect(again.code).toBe(EXIT.denied);
    expect(again.stderr).toContain(`maintenance window ${id} is already over (ended)`);
    const all = JSON.parse((await h.cli(['maintenance', 'list', '--all', '--json'], obi)).stdout);
    expect(all.items.find((w: { id: string }) => w.id === id)).toMatchObject({ state: 'ended' });
    expect(h.core.stack.store.audit.list({ kind: 'maintenance.ended' })).toMatchObject([{ actor: olga.id }]);
  });

  it('cli - maintenance start node <cluster>/<node> and tag <tag>; --json answers the window', async () => {
    const node = await h.cli(
      ['maintenance', 'start', 'node', 'lab/pve3', '--for', '30m', '--reason', 'kernel', '--json'],
      olga,
    );
    expect(node.code, node.stderr).toBe(EXIT.ok);
    expect(JSON.parse(node.stdout)).toMatchObject({ scope: 'node', target: 'lab/pve3', state: 'active' });
    const tag = await h.cli(
      ['maintenance', 'start', 'tag', 'ci', '--until', '1970-01-01T01:00:00Z', '--reason', 'runner upgrade', '--json'],
      olga,
    );
    expect(JSON.parse(tag.stdout)).toMatchObject({ scope: 'tag', target: 'ci', until: 3_600_000 });
    const reboot = await h.cli(['reboot', 'lab/106', '--json'], olga);
    expect(reboot.code).toBe(EXIT.awaitingApproval);
    // Both windows cover VM 106 (on pve3, tagged ci): the gate names the one lasting longest.
    expect(JSON.parse(reboot.stdout).reasons[0]).toMatch(
      /^VM lab\/106 \(ci-runner-01\) is in maintenance \(tag ci until 1970-01-01T01:00:00Z, by olga: runner upgrade/,
    );
  });

  it('cli - silence add, list and remove', async () => {
    const added = await h.cli(
      ['silence', 'add', 'vm-unexpected-stop', 'lab/109', '--for', '1h30m', '--reason', 'flaky agent'],
      olga,
    );
    expect(added.code, added.stderr).toBe(EXIT.ok);
    const id = /^silence (s-[0-9a-f]{8}):/.exec(added.stdout)?.[1] ?? '';
    expect(added.stdout).toBe(
      `silence ${id}: vm-unexpected-stop on lab/109 until 1970-01-01T01:30:00Z (flaky agent)\n`,
    );
    const list = await h.cli(['silence', 'list'], obi);
    expect(list.stdout).toMatch(new RegExp(`^${id}\\s+vm-unexpected-stop\\s+lab/109\\s+active\\s`, 'm'));
    const removed = await h.cli(['silence', 'remove', id], olga);
    expect(removed).toMatchObject({ code: EXIT.ok });
    expect(removed.stdout).toBe(`silence ${id} removed: vm-unexpected-stop on lab/109 is handled as usual again\n`);
  });

  it('cli - bad command lines exit 2 naming what is wrong; the core refuses unknown targets; observers exit 7', async () => {
    const cases: [string[], string][] = [
      [['maintenance', 'start', 'lab/101', '--reason', 'x'], 'give one of --for and --until'],
      [['maintenance', 'start', 'lab/101', '--for', '2x', '--reason', 'x'], '--for must be a duration'],
      [['maintenance', 'start', 'lab/101', '--for', '1h'], '--reason is required'],
      [['maintenance', 'start', 'vm', 'lab/101', '--for', '1h', '--reason', 'x'], 'expected guest, node or tag'],
      [['maintenance', 'start', 'node', 'pve1', '--for', '1h', '--reason', 'x'], "a node is '<cluster>/<node>'"],
      [['maintenance', 'start', 'lab/999', '--for', '1h', '--reason', 'x'], 'no guest lab/999 in the inventory'],
      [['maintenance', 'start', 'lab/101', '--for', '31d', '--reason', 'x'], 'durationSeconds'],
      [
        ['silence', 'add', 'host-offline', 'lab/101', '--for', '1h', '--reason', 'x'],
        "unknown incident kind 'host-offline'",
      ],
      [['maintenance', 'start', 'node', 'lab/pve1', 'extra', '--for', '1h', '--reason', 'x'], 'takes 1 to 2 arguments'],
    ];
    for (const [argv, message] of cases) {
      const res = await h.cli(argv, olga);
      expect(res.code, argv.join(' ')).toBe(EXIT.usage);
      expect(res.stderr, argv.join(' ')).toContain(message);
    }
    const observer = await h.cli(['maintenance', 'start', 'lab/101', '--for', '1h', '--reason', 'x'], obi);
    expect(observer.code).toBe(EXIT.auth);
  });

  it('cli - durations: 2h, 90m, 1h30m, 1d, 45s and plain seconds', () => {
    expect(parseDuration('2h')).toBe(7200);
    expect(parseDuration('90m')).toBe(5400);
    expect(parseDuration('1h30m')).toBe(5400);
    expect(parseDuration('1d')).toBe(86_400);
    expect(parseDuration('45s')).toBe(45);
    expect(parseDuration('600')).toBe(600);
    expect(() => parseDuration('2 h')).toThrow(/--for must be a duration/);
  });
});
