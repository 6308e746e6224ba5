import { describe, expect, it } from 'vitest';
import { detectConditions } from '../../machines';
import { keys, monitor, vm, world } from './fixtures';

const STOP = 'vm-unexpected-stop:vm:lab/101';
const LOOP = 'vm-crash-loop:vm:lab/101';

describe('monitor vms', () => {
  it('monitor - a healthy world has no conditions', () => {
    const result = detectConditions(world());
    expect(result.conditions).toEqual([]);
    expect(result.cleared).toEqual([]);
  });

  it('monitor - an unexpected stop is present while the VM stays stopped, and clears when it runs again', () => {
    const m = monitor();
    const stopped = vm({ status: 'stopped' });
    const first = m.cycle(
      world({ vmList: [stopped], vmIssues: [{ kind: 'unexpected-stop', cluster: 'lab', vmid: 101, at: 999_000 }] }),
    );
    expect(first.conditions).toEqual([
      expect.objectContaining({
        kind: 'vm-unexpected-stop',
        subject: 'vm:lab/101',
        dedupeKey: STOP,
        severity: 'critical',
        detail: expect.stringContaining('VM lab/101 (web1) stopped'),
      }),
    ]);
    // No new issue, but the VM is still stopped: still present, nothing cleared.
    const second = m.cycle(world({ now: 1_010_000, vmList: [stopped] }));
    expect(keys(second)).toEqual([STOP]);
    expect(second.cleared).toEqual([]);
    const third = m.cycle(world({ now: 1_020_000, vmList: [vm({ status: 'running' })] }));
    expect(third.conditions).toEqual([]);
    expect(third.cleared).toEqual([STOP]);
    expect(m.memory.stopped).toEqual({});
  });

  it('monitor - a stop already undone by the next cycle is still reported once', () => {
    const m = monitor();
    const issue = { kind: 'unexpected-stop' as const, cluster: 'lab', vmid: 101, at: 999_000 };
    expect(keys(m.cycle(world({ vmIssues: [issue] })))).toEqual([STOP]);
    expect(m.cycle(world({ now: 1_010_000 })).cleared).toEqual([STOP]);
  });

  it('monitor - a vanished VM is reported in the cycle it vanished', () => {
    const m = monitor();
    const first = m.cycle(
      world({
        vmList: [vm({}, 'destroyed')],
        vmIssues: [{ kind: 'vanished', cluster: 'lab', vmid: 101, at: 999_000 }],
      }),
    );
    expect(first.conditions).toEqual([
      expect.objectContaining({ kind: 'vm-vanished', severity: 'warning', detail: expect.stringContaining('gone') }),
    ]);
    expect(m.cycle(world({ vmList: [] })).cleared).toEqual(['vm-vanished:vm:lab/101']);
  });

  it('monitor - crash loop: N unexpected stops within the window, and it clears as they age out', () => {
    const m = monitor();
    const stopped = vm({ status: 'stopped' });
    const stopAt = (now: number) =>
      world({ now, vmList: [stopped], vmIssues: [{ kind: 'unexpected-stop', cluster: 'lab', vmid: 101, at: now }] });
    expect(keys(m.cycle(stopAt(0)))).toEqual([STOP]);
    expect(keys(m.cycle(stopAt(60_000)))).toEqual([STOP]);
    const third = m.cycle(stopAt(120_000));
    expect(keys(third)).toEqual([STOP, LOOP]);
    expect(third.conditions[1]).toMatchObject({
      severity: 'critical',
      detail: expect.stringContaining('3 unexpected stops within 10m'),
      data: { stops: 3 },
    });
    // The same issue delivered twice is counted once.
    expect(m.cycle(stopAt(120_000)).conditions[1]?.data).toMatchObject({ stops: 3 });
    // 10 minutes after the first stop, only two remain in the window.
    const later = m.cycle(world({ now: 600_000, vmList: [stopped] }));
    expect(keys(later)).toEqual([STOP]);
    expect(later.cleared).toEqual([LOOP]);
  });

  it("monitor - a destroyed VM's crashes are not held against the new VM given its VMID", () => {
    const m = monitor();
    const stopAt = (now: number) =>
      world({
        now,
        vmList: [vm({ status: 'stopped' })],
        vmIssues: [{ kind: 'unexpected-stop', cluster: 'lab', vmid: 101, at: now }],
      });
    m.cycle(stopAt(0));
    m.cycle(stopAt(60_000));
    // The VM is destroyed; a new one takes VMID 101 and crashes once: one stop, no loop.
    m.cycle(world({ now: 90_000, vmList: [vm({ status: 'stopped' }, 'destroyed')] }));
    expect(m.memory.stops).toEqual({});
    expect(keys(m.cycle(stopAt(120_000)))).toEqual([STOP]);
  });

  it('monitor - crash loop: stops spread wider than the window are no loop', () => {
    const m = monitor();
    for (const now of [0, 400_000, 800_000]) {
      const result = m.cycle(
        world({ now, vmIssues: [{ kind: 'unexpected-stop', cluster: 'lab', vmid: 101, at: now }] }),
      );
      expect(keys(result)).not.toContain(LOOP);
    }
  });

  it('monitor - a running backup holds its lock without an incident until the backup limit', () => {
    const { lockMaxMs, backupLockMaxMs } = world().thresholds;
    const backingUp = (now: number) =>
      world({ now, vmList: [vm({ lock: 'backup' }, 'locked', { stateSince: 1_000 })] });
    expect(detectConditions(backingUp(1_000 + lockMaxMs * 4)).conditions).toEqual([]);
    expect(detectConditions(backingUp(1_000 + backupLockMaxMs)).conditions).toEqual([
      expect.objectContaining({ kind: 'vm-lock-stuck', detail: expect.stringContaining("'backup' lock for 12h") }),
    ]);
  });

  it('monitor - a lock held past the limit is stuck, measured from when the VM actor entered locked', () => {
    const limit = world().thresholds.lockMaxMs;
    const locked = (now: number) => world({ now, vmList: [vm({ lock: 'clone' }, 'locked', { stateSince: 1_000 })] });
    expect(detectConditions(locked(1_000 + limit - 1)).conditions).toEqual([]);
    const result = detectConditions(locked(1_000 + limit));
    expect(result.conditions).toEqual([
      expect.objectContaining({
        kind: 'vm-lock-stuck',
        severity: 'warning',
        detail: expect.stringContaining("'clone' lock for 30m"),
      }),
    ]);
    const cleared = detectConditions(world({ now: 1_000 + limit + 1 }), result.memory);
    expect(cleared.cleared).toEqual(['vm-lock-stuck:vm:lab/101']);
  });

  it('monitor - a lock without a known start is timed from the cycle that first saw it', () => {
    const m = monitor();
    const limit = world().thresholds.lockMaxMs;
    const locked = vm({ lock: 'clone' }, 'cloning');
    expect(m.cycle(world({ now: 5_000, vmList: [locked] })).conditions).toEqual([]);
    expect(m.cycle(world({ now: 5_000 + limit - 1, vmList: [locked] })).conditions).toEqual([]);
    expect(keys(m.cycle(world({ now: 5_000 + limit, vmList: [locked] })))).toEqual(['vm-lock-stuck:vm:lab/101']);
  });

  it('monitor - VM memory over its thresholds is a warning, then critical, with hysteresis when it falls', () => {
    const gib = 1024 ** 3;
    const m = monitor();
    const at = (mem: number) => world({ vmList: [vm({ mem, maxmem: 100 * gib })] });
    expect(m.cycle(at(90 * gib)).conditions).toEqual([]);
    expect(m.cycle(at(96 * gib)).conditions).toEqual([
      expect.objectContaining({ kind: 'vm-mem-high', severity: 'warning', detail: expect.stringContaining('96%') }),
    ]);
    expect(m.cycle(at(99.5 * gib)).conditions[0]?.severity).toBe('critical');
    // Just under the warning line: still present (no flapping) ...
    expect(keys(m.cycle(at(93 * gib)))).toEqual(['vm-mem-high:vm:lab/101']);
    // ... until it is clearly below.
    expect(m.cycle(at(80 * gib)).cleared).toEqual(['vm-mem-high:vm:lab/101']);
  });

  it('monitor - a stopped VM has no memory condition', () => {
    const result = detectConditions(world({ vmList: [vm({ status: 'stopped', mem: 2 * 1024 ** 3 })] }));
    expect(result.conditions).toEqual([]);
  });
});
