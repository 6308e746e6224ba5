import { describe, expect, it } from 'vitest';
import type { MonitoredTask } from '../../machines';
import { detectConditions } from '../../machines';
import { host, keys, monitor, world } from './fixtures';

const gib = 1024 ** 3;

describe('monitor hosts and clusters', () => {
  it('monitor - an offline host is critical and clears when it is back', () => {
    const m = monitor();
    const result = m.cycle(world({ hostList: [host({ status: 'offline' }, 'offline')] }));
    expect(result.conditions).toEqual([
      expect.objectContaining({
        kind: 'host-offline',
        subject: 'host:lab/pve1',
        dedupeKey: 'host-offline:host:lab/pve1',
        severity: 'critical',
        detail: 'Node lab/pve1 is offline',
      }),
    ]);
    expect(m.cycle(world()).cleared).toEqual(['host-offline:host:lab/pve1']);
  });

  it('monitor - a degraded host says why; an unresponsive one is the offline condition, not yet critical', () => {
    const result = detectConditions(world({ hostList: [host({ status: 'offline' }, 'degraded.unresponsive')] }));
    expect(result.conditions).toEqual([
      expect.objectContaining({
        kind: 'host-offline',
        severity: 'warning',
        detail: expect.stringContaining('not responding'),
      }),
    ]);
    const noQuorum = detectConditions(world({ hostList: [host({}, 'degraded.noQuorum')] }));
    expect(noQuorum.conditions.filter((c) => c.subject.startsWith('host:'))).toEqual([]);
  });

  it('monitor - host CPU, memory and storage over their thresholds', () => {
    const busy = host(
      { cpu: 0.99, mem: 60 * gib, maxmem: 64 * gib, disk: 900 * gib, maxdisk: 1000 * gib },
      'degraded.overloaded',
    );
    const result = detectConditions(world({ hostList: [busy] }));
    expect(keys(result)).toEqual([
      'host-degraded:host:lab/pve1',
      'host-cpu-high:host:lab/pve1',
      'host-mem-high:host:lab/pve1',
      'host-disk-high:host:lab/pve1',
    ]);
    expect(result.conditions.map((c) => c.severity)).toEqual(['warning', 'critical', 'warning', 'warning']);
    expect(result.conditions[1]?.detail).toBe('Node lab/pve1 CPU is at 99% (warning above 90%)');
    const calm = detectConditions(world(), result.memory);
    expect(calm.cleared).toHaveLength(4);
  });

  it('monitor - a cluster that lost quorum is critical; an unreachable one is reported as such', () => {
    const m = monitor();
    const lost = m.cycle(world({ clusters: new Map([['lab', { cluster: 'lab', reachable: true, quorate: false }]]) }));
    expect(lost.conditions).toEqual([
      expect.objectContaining({ kind: 'cluster-no-quorum', subject: 'cluster:lab', severity: 'critical' }),
    ]);
    const gone = m.cycle(world({ clusters: new Map([['lab', { cluster: 'lab', reachable: false, quorate: false }]]) }));
    expect(keys(gone)).toEqual(['cluster-unreachable:cluster:lab']);
    expect(gone.cleared).toEqual(['cluster-no-quorum:cluster:lab']);
    expect(m.cycle(world()).cleared).toEqual(['cluster-unreachable:cluster:lab']);
  });
});

describe('monitor tasks and requests', () => {
  const task = (over: Partial<MonitoredTask> = {}): MonitoredTask => ({
    upid: 'UPID:pve1:0001:qmstart:101:root@pam:',
    cluster: 'lab',
    node: 'pve1',
    type: 'qmstart',
    vmid: 101,
    startedAt: 0,
    status: 'running',
    ...over,
  });

  it('monitor - a task running past the limit is stuck, and clears once it ends', () => {
    const limit = world().thresholds.taskMaxMs;
    expect(detectConditions(world({ now: limit - 1, tasks: [task()] })).conditions).toEqual([]);
    const stuck = detectConditions(world({ now: limit, tasks: [task()] }));
    expect(stuck.conditions).toEqual([
      expect.objectContaining({
        kind: 'task-stuck',
        subject: 'vm:lab/101',
        detail: expect.stringContaining('qmstart task on VM lab/101 has been running for 1h0m'),
      }),
    ]);
    const done = detectConditions(
      world({ now: limit + 1, tasks: [task({ status: 'stopped', exitstatus: 'OK' })] }),
      stuck.memory,
    );
    expect(done.conditions).toEqual([]);
    expect(done.cleared).toEqual(['task-stuck:vm:lab/101']);
  });

  it('monitor - a failed task is reported against its VM, or its node when it has none; warnings are success', () => {
    const result = detectConditions(
      world({
        tasks: [
          task({
            status: 'stopped',
            exitstatus: "can't lock file '/var/lock/qemu-server/lock-101.conf' - got timeout",
          }),
          task({ upid: 'u2', type: 'vzdump', vmid: undefined, status: 'stopped', exitstatus: 'job errors' }),
          task({ upid: 'u3', status: 'stopped', exitstatus: 'WARNINGS: 2' }),
        ],
      }),
    );
    expect(keys(result)).toEqual(['task-failed:vm:lab/101', 'task-failed:host:lab/pve1']);
    expect(result.conditions[0]?.detail).toContain("qmstart task on VM lab/101 failed: can't lock file");
    expect(result.conditions[1]?.detail).toBe('vzdump task on node lab/pve1 failed: job errors');
  });

  it('monitor - a request executing past the limit is stuck', () => {
    const limit = world().thresholds.requestExecutingMaxMs;
    const request = {
      id: 'r1',
      action: 'start' as const,
      status: 'executing' as const,
      since: 0,
      target: { cluster: 'lab', vmid: 101 },
    };
    expect(detectConditions(world({ now: limit - 1, requests: [request] })).conditions).toEqual([]);
    const stuck = detectConditions(world({ now: limit, requests: [request] }));
    expect(stuck.conditions).toEqual([
      expect.objectContaining({
        kind: 'request-stuck',
        subject: 'req:r1',
        dedupeKey: 'request-stuck:req:r1',
        detail: 'Request r1 (start lab/101) has been executing for 30m (limit 30m)',
      }),
    ]);
    // A queued request is not executing, however long it waits.
    expect(
      detectConditions(world({ now: limit * 10, requests: [{ ...request, status: 'queued' }] })).conditions,
    ).toEqual([]);
    const completed = detectConditions(
      world({ now: limit + 1, requests: [{ ...request, status: 'completed' }] }),
      stuck.memory,
    );
    expect(completed.cleared).toEqual(['request-stuck:req:r1']);
  });
});
