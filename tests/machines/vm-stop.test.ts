// Telling an operator's stop from a guest that died, from the VM's task log (pure).
import { describe, expect, it } from 'vitest';
import type { StopTaskEntry } from '../../machines/vm-stop';
import { explainStop, runStartedAt, TASK_CLOCK_SKEW_S } from '../../machines/vm-stop';

const upid = (type: string, start: number, user = 'root@pam') =>
  `UPID:pve1:0002A000:00000001:${start.toString(16).toUpperCase().padStart(8, '0')}:${type}:101:${user}:`;

function task(type: string, starttime: number, extra: Partial<StopTaskEntry> = {}): StopTaskEntry {
  const user = extra.user ?? 'root@pam';
  return {
    upid: upid(type, starttime, user),
    node: 'pve1',
    type,
    user,
    starttime,
    status: 'stopped',
    exitstatus: 'OK',
    ...extra,
  };
}

const explain = (tasks: StopTaskEntry[], extra: { own?: string[]; haManaged?: boolean; haState?: string } = {}) =>
  explainStop({
    tasks,
    since: 1_000,
    haManaged: extra.haManaged ?? false,
    haState: extra.haState,
    ownerOf: (u) => (extra.own?.includes(u) ? 'r1' : undefined),
  });

describe('vm stop causes', () => {
  it('vm stop - the newest stop task since the run began is the cause, with who issued it and when', () => {
    const stop = task('qmshutdown', 1_200, { user: 'overseer@pve!ops' });
    expect(explain([task('qmstart', 1_010), stop])).toEqual({
      by: 'task',
      upid: stop.upid,
      type: 'qmshutdown',
      user: 'overseer@pve!ops',
      at: 1_200_000,
      requestId: undefined,
    });
  });

  it("vm stop - a stop task of Overseer's own request is known by its id, not by the token", () => {
    const stop = task('qmstop', 1_200, { user: 'overseer@pve!ops' });
    expect(explain([stop], { own: [stop.upid] })).toMatchObject({ by: 'task', requestId: 'r1' });
  });

  it('vm stop - a start after the last stop, no task at all, or only a stop before the run: the guest died', () => {
    expect(explain([task('qmstop', 1_100), task('qmstart', 1_150)])).toEqual({ by: 'none' });
    expect(explain([])).toEqual({ by: 'none' });
    expect(explain([task('qmstop', 900)])).toEqual({ by: 'none' });
  });

  it('vm stop - a failed start does not count; a stop that ended in an error still does', () => {
    const stop = task('qmshutdown', 1_100, { exitstatus: 'VM quit/powerdown failed - got timeout' });
    expect(explain([stop, task('qmstart', 1_150, { exitstatus: 'start failed' })])).toMatchObject({
      by: 'task',
      upid: stop.upid,
    });
    expect(explain([task('qmstop', 1_100, { status: 'running', exitstatus: undefined })])).toMatchObject({
      by: 'task',
    });
  });

  it('vm stop - tasks that neither start nor stop are ignored; a stop and a start in the same second: stopped', () => {
    expect(explain([task('qmsnapshot', 1_300), task('vzdump', 1_400)])).toEqual({ by: 'none' });
    expect(explain([task('qmstart', 1_200), task('qmstop', 1_200)])).toMatchObject({ by: 'task', type: 'qmstop' });
  });

  it("vm stop - an HA-managed guest without a stop task follows HA's requested state", () => {
    expect(explain([], { haManaged: true, haState: 'stopped' })).toEqual({ by: 'ha', haState: 'stopped' });
    expect(explain([], { haManaged: true, haState: 'request_stop' })).toEqual({ by: 'ha', haState: 'request_stop' });
    expect(explain([], { haManaged: true, haState: 'started' })).toEqual({ by: 'none' });
    expect(explain([task('hastop', 1_200)], { haManaged: true, haState: 'stopped' })).toMatchObject({
      by: 'task',
      type: 'hastop',
    });
  });

  it('vm stop - the run began its uptime before it was last seen, less the clock skew', () => {
    expect(runStartedAt(1_000_000, 100)).toBe(1_000 - 100 - TASK_CLOCK_SKEW_S);
    expect(runStartedAt(10_000, 100)).toBe(0);
  });
});
