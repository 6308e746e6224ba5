// The monitor's restraint (actors/monitor-quiet.ts) and the live view's board of windows and silences: what a
// window or a silence covers, and that it stops covering it when it runs out (by `now`, no timer).
import { describe, expect, it } from 'vitest';
import { MaintenanceBoard } from '../../actors/maintenance-board';
import { MonitorQuiet, quietReason } from '../../actors/monitor-quiet';
import { SystemView } from '../../actors/system-view';
import type { MaintenanceWindow, Silence } from '../../machines/maintenance';
import { makeVm } from '../gate/fixtures';

const window = (id: string, scope: MaintenanceWindow['scope'], target: string, until = 10_000): MaintenanceWindow => ({
  id,
  scope,
  target,
  from: 0,
  until,
  reason: 'work',
  by: 'tok-olga',
  byName: 'olga',
});
const silence = (kind: string, guest: string, until = 10_000): Silence => ({
  id: 's1',
  kind,
  guest,
  from: 0,
  until,
  reason: 'flaky',
  by: 'tok-olga',
});

function view(windows: MaintenanceWindow[], silences: Silence[] = []): SystemView {
  const v = new SystemView();
  v.setVm(makeVm(101, { node: 'pve2', tags: ['web'] }));
  v.setVm(makeVm(102, { node: 'pve1' }));
  v.maintenance.load(windows, silences);
  return v;
}

describe('monitor restraint', () => {
  it('quiet - a guest is covered by a window on itself, its node or its tag; a node by a window on it', () => {
    for (const w of [window('m1', 'guest', 'lab/101'), window('m1', 'node', 'lab/pve2'), window('m1', 'tag', 'web')]) {
      const v = view([w]);
      expect(quietReason(v, 'vm-unexpected-stop', 'vm:lab/101', 5000)).toMatch(/^VM lab\/101 is in maintenance \(/);
      expect(quietReason(v, 'vm-unexpected-stop', 'vm:lab/102', 5000)).toBeUndefined();
    }
    const node = view([window('m1', 'node', 'lab/pve2')]);
    expect(quietReason(node, 'host-offline', 'host:lab/pve2', 5000)).toBe(
      'node lab/pve2 is in maintenance (node lab/pve2 until 1970-01-01T00:00:10Z, by olga: work (m1))',
    );
    expect(quietReason(node, 'cluster-no-quorum', 'cluster:lab', 5000)).toBeUndefined();
  });

  it('quiet - a silence covers its kind on its guest only', () => {
    const v = view([], [silence('vm-unexpected-stop', 'lab/101')]);
    expect(quietReason(v, 'vm-unexpected-stop', 'vm:lab/101', 5000)).toBe(
      'vm-unexpected-stop on lab/101 is silenced until 1970-01-01T00:00:10Z, by tok-olga: flaky (s1)',
    );
    expect(quietReason(v, 'vm-crash-loop', 'vm:lab/101', 5000)).toBeUndefined();
    expect(quietReason(v, 'vm-unexpected-stop', 'vm:lab/102', 5000)).toBeUndefined();
  });

  it('quiet - expiry: at `until` nothing is covered any more, and the board forgets it', () => {
    const v = view([window('m1', 'guest', 'lab/101', 10_000)], [silence('vm-unexpected-stop', 'lab/102', 10_000)]);
    expect(quietReason(v, 'vm-unexpected-stop', 'vm:lab/101', 9_999)).toBeDefined();
    expect(quietReason(v, 'vm-unexpected-stop', 'vm:lab/101', 10_000)).toBeUndefined();
    expect(quietReason(v, 'vm-unexpected-stop', 'vm:lab/102', 10_000)).toBeUndefined();
    expect(v.maintenance.windows(10_000)).toEqual([]);
    expect(v.maintenance.silences(10_000)).toEqual([]);
  });

  it('quiet - the monitor holds back remediation while covered, logs it once, and says when it resumes', () => {
    const v = view([window('m1', 'guest', 'lab/101', 10_000)]);
    const logged: string[] = [];
    const quiet = new MonitorQuiet(v, { warn: (m: string) => logged.push(m) });
    const condition = { kind: 'vm-unexpected-stop', subject: 'vm:lab/101' };
    expect(quiet.holdsRemediation('i1', condition, 1000)).toBe(true);
    expect(quiet.holdsRemediation('i1', condition, 2000)).toBe(true);
    expect(quiet.holdsPage({ ...condition, at: 2000 })).toBe(true);
    expect(quiet.holdsRemediation('i1', condition, 10_000)).toBe(false);
    expect(quiet.holdsPage({ ...condition, at: 10_000 })).toBe(false);
    expect(logged).toEqual([
      'incident:i1: recorded, not remediated, nobody paged: VM lab/101 is in maintenance (guest lab/101 until ' +
        '1970-01-01T00:00:10Z, by olga: work (m1))',
      'incident:i1: no longer held back: remediation resumes',
    ]);
  });

  it('board - a scheduled window is kept until it runs out; removing takes it off at once', () => {
    const board = new MaintenanceBoard();
    board.setWindow({ ...window('m1', 'guest', 'lab/101'), from: 5000 });
    board.setWindow(window('m2', 'tag', 'web'));
    expect(board.windows(1000).map((w) => w.id)).toEqual(['m1', 'm2']);
    board.removeWindow('m2');
    expect(board.windows(1000).map((w) => w.id)).toEqual(['m1']);
  });
});
