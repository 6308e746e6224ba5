import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import type { VmIssue, VmStoppedNotice } from '../../machines';
import { UNEXPLAINED_STOP_LIMIT, vmMachine } from '../../machines';
import type { VmStopCause } from '../../machines/vm-stop';
import { vmInfo } from './fixtures';

function startVm(info = vmInfo()) {
  const actor = createActor(vmMachine, { input: { info, at: 0 } });
  const issues: VmIssue[] = [];
  const stops: VmStoppedNotice[] = [];
  actor.on('issue', (e) => issues.push(e));
  actor.on('stopped', (e) => stops.push(e));
  actor.start();
  return { actor, issues, stops };
}

const operatorStop: VmStopCause = {
  by: 'task',
  upid: 'UPID:pve1:0002A000:00000001:00000005:qmstop:101:root@pam:',
  type: 'qmstop',
  user: 'root@pam',
  at: 5_000,
};

describe('vm machine', () => {
  it('vm - routes a discovered VM to the state the platform reports', () => {
    expect(startVm(vmInfo({ status: 'running' })).actor.getSnapshot().value).toBe('running');
    expect(startVm(vmInfo({ status: 'stopped' })).actor.getSnapshot().value).toBe('stopped');
    expect(startVm(vmInfo({ status: 'paused' })).actor.getSnapshot().value).toBe('paused');
    expect(startVm(vmInfo({ lock: 'backup' })).actor.getSnapshot().value).toBe('locked');
    expect(startVm(vmInfo({ status: 'unknown' })).actor.getSnapshot().value).toBe('unknown');
  });

  it('vm - an observation takes the VM to the reported state in one step, from any state', () => {
    const cases = [
      { from: 'running', info: vmInfo({ status: 'stopped', lock: 'backup' }), to: 'locked' },
      { from: 'running', info: vmInfo({ status: 'paused' }), to: 'paused' },
      { from: 'running', info: vmInfo({ status: 'unknown' }), to: 'unknown' },
      { from: 'stopped', info: vmInfo({ status: 'running' }), to: 'running' },
      { from: 'locked', info: vmInfo({ status: 'stopped' }), to: 'stopped' },
      { from: 'paused', info: vmInfo({ status: 'running', lock: 'migrate' }), to: 'locked' },
    ] as const;
    for (const c of cases) {
      const start = c.from === 'locked' ? vmInfo({ lock: 'backup' }) : vmInfo({ status: c.from });
      const microsteps: unknown[] = [];
      const actor = createActor(vmMachine, {
        input: { info: start, at: 0 },
        inspect: (e) => void (e.type === '@xstate.microstep' && microsteps.push(e)),
      }).start();
      expect(actor.getSnapshot().value).toBe(c.from);
      microsteps.length = 0;
      actor.send({ type: 'OBSERVED', info: c.info, at: 7 });
      expect(actor.getSnapshot().value).toBe(c.to);
      expect(actor.getSnapshot().context).toMatchObject({ info: c.info, lastSeen: 7 });
      expect(microsteps).toHaveLength(1);
    }
  });

  it('vm - running to stopped with no request behind it raises an issue', () => {
    const { actor, issues } = startVm();
    actor.send({ type: 'OBSERVED', info: vmInfo({ status: 'stopped' }), at: 5 });
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(issues).toEqual([
      expect.objectContaining({
        kind: 'unexpected-stop',
        vmid: 101,
        at: 5,
        detail: expect.stringContaining('lab/101'),
      }),
    ]);
  });

  it("vm - a stop by a task Overseer did not issue is announced as an operator's, not raised as an issue", () => {
    const { actor, issues, stops } = startVm();
    actor.send({ type: 'OBSERVED', info: vmInfo({ status: 'stopped' }), at: 9_000, stop: operatorStop });
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(issues).toEqual([]);
    expect(stops).toEqual([
      expect.objectContaining({
        by: 'operator',
        vmid: 101,
        at: 9_000,
        user: 'root@pam',
        upid: operatorStop.by === 'task' ? operatorStop.upid : '',
        task: 'qmstop',
        taskAt: 5_000,
      }),
    ]);
    expect(actor.getSnapshot().context.lastStop).toEqual({ at: 9_000, cause: operatorStop });
  });

  it("vm - a stop by a task of Overseer's own request is neither an issue nor an operator's stop", () => {
    const { actor, issues, stops } = startVm();
    const own = { ...operatorStop, requestId: 'r7' };
    actor.send({ type: 'OBSERVED', info: vmInfo({ status: 'stopped' }), at: 9_000, stop: own });
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(issues).toEqual([]);
    expect(stops).toEqual([]);
  });

  it('vm - an HA-managed VM stopped as HA requests is left to HA', () => {
    const { actor, issues, stops } = startVm(vmInfo({ haManaged: true, haState: 'started' }));
    const info = vmInfo({ status: 'stopped', haManaged: true, haState: 'stopped' });
    actor.send({ type: 'OBSERVED', info, at: 9_000, stop: { by: 'ha', haState: 'stopped' } });
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(issues).toEqual([]);
    expect(stops).toEqual([expect.objectContaining({ by: 'ha', haState: 'stopped' })]);
  });

  it('vm - a stop with no task behind it (the guest died) is an issue', () => {
    const { actor, issues, stops } = startVm();
    actor.send({ type: 'OBSERVED', info: vmInfo({ status: 'stopped' }), at: 9_000, stop: { by: 'none' } });
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(stops).toEqual([]);
    expect(issues.map((i) => i.kind)).toEqual(['unexpected-stop']);
  });

  it('vm - while its task log cannot be read the VM stays running; after the limit the stop is an issue', () => {
    const { actor, issues } = startVm();
    const stopped = vmInfo({ status: 'stopped' });
    const unknown: VmStopCause = { by: 'unknown', error: 'HTTP 500' };
    for (let i = 1; i < UNEXPLAINED_STOP_LIMIT; i++) {
      actor.send({ type: 'OBSERVED', info: stopped, at: i, stop: unknown });
      expect(actor.getSnapshot().value).toBe('running');
      expect(actor.getSnapshot().context.unexplainedStops).toBe(i);
    }
    expect(issues).toEqual([]);
    actor.send({ type: 'OBSERVED', info: stopped, at: 10, stop: unknown });
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(issues).toEqual([
      expect.objectContaining({ kind: 'unexpected-stop', detail: expect.stringContaining('task log') }),
    ]);
  });

  it('vm - a requested stop raises no issue and ends stopped', () => {
    const { actor, issues } = startVm();
    actor.send({ type: 'OPERATION_STARTED', requestId: 'r1', action: 'stop' });
    expect(actor.getSnapshot().value).toBe('stopping');
    actor.send({ type: 'OBSERVED', info: vmInfo({ status: 'stopped' }), at: 5 });
    expect(actor.getSnapshot().value).toBe('stopping');
    actor.send({ type: 'OPERATION_ENDED', requestId: 'r1', ok: true });
    expect(actor.getSnapshot().value).toBe('stopped');
    expect(issues).toEqual([]);
  });

  it('vm - each operation has its own state', () => {
    const expected = {
      start: 'starting',
      shutdown: 'shuttingDown',
      reboot: 'rebooting',
      snapshot: 'snapshotting',
      deploy: 'cloning',
      destroy: 'destroying',
    } as const;
    for (const [action, state] of Object.entries(expected)) {
      const { actor } = startVm();
      actor.send({ type: 'OPERATION_STARTED', requestId: 'r', action: action as keyof typeof expected });
      expect(actor.getSnapshot().value).toBe(state);
    }
  });

  it('vm - a successful destroy ends destroyed (final)', () => {
    const { actor } = startVm(vmInfo({ status: 'stopped' }));
    actor.send({ type: 'OPERATION_STARTED', requestId: 'r1', action: 'destroy' });
    actor.send({ type: 'OPERATION_ENDED', requestId: 'r1', ok: true });
    expect(actor.getSnapshot().value).toBe('destroyed');
    expect(actor.getSnapshot().status).toBe('done');
  });

  it('vm - a failed operation returns to the observed state', () => {
    const { actor } = startVm();
    actor.send({ type: 'OPERATION_STARTED', requestId: 'r1', action: 'stop' });
    actor.send({ type: 'OPERATION_ENDED', requestId: 'r1', ok: false });
    expect(actor.getSnapshot().value).toBe('running');
    expect(actor.getSnapshot().context.lastOperation).toEqual({ requestId: 'r1', action: 'stop', ok: false });
  });

  it('vm - an unreachable node makes the VM unknown, not gone', () => {
    const { actor } = startVm();
    actor.send({ type: 'UNREACHABLE', at: 5 });
    expect(actor.getSnapshot().value).toBe('unknown');
    actor.send({ type: 'OBSERVED', info: vmInfo(), at: 6 });
    expect(actor.getSnapshot().value).toBe('running');
  });

  it('vm - missing from one complete answer is not enough; twice in a row is destroyed', () => {
    const { actor, issues } = startVm();
    actor.send({ type: 'MISSING', at: 1 });
    expect(actor.getSnapshot().value).toBe('running');
    actor.send({ type: 'OBSERVED', info: vmInfo(), at: 2 });
    actor.send({ type: 'MISSING', at: 3 });
    expect(actor.getSnapshot().value).toBe('running');
    actor.send({ type: 'MISSING', at: 4 });
    expect(actor.getSnapshot().value).toBe('destroyed');
    expect(issues.map((i) => i.kind)).toEqual(['vanished']);
  });
});
