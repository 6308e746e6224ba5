import { describe, expect, it } from 'vitest';
import type { SshResult } from '../../machines';
import { host, keys, monitor, vm, world } from './fixtures';

const UNREACHABLE = 'guest-unreachable:vm:lab/101';
const ok: SshResult = { id: 'vm:lab/101', reachable: true, load: 0.5, disk: 0.4, units: [] };
const down: SshResult = { id: 'vm:lab/101', reachable: false, error: 'connect ETIMEDOUT' };

describe('monitor guests over SSH', () => {
  it('monitor - a guest is unreachable after N failed checks in a row, and clears when it answers', () => {
    const m = monitor();
    expect(m.cycle(world({ sshResults: [down] })).conditions).toEqual([]);
    const second = m.cycle(world({ sshResults: [down] }));
    expect(second.conditions).toEqual([
      expect.objectContaining({
        kind: 'guest-unreachable',
        subject: 'vm:lab/101',
        detail: 'VM lab/101 (web1) has not answered over SSH 2 times in a row: connect ETIMEDOUT',
        data: { consecutive: 2, error: 'connect ETIMEDOUT' },
      }),
    ]);
    // Not checked this cycle: the count stays where it was.
    expect(m.cycle(world()).conditions[0]?.data).toMatchObject({ consecutive: 2 });
    expect(m.cycle(world({ sshResults: [down] })).conditions[0]?.data).toMatchObject({ consecutive: 3 });
    const back = m.cycle(world({ sshResults: [ok] }));
    expect(back.conditions).toEqual([]);
    expect(back.cleared).toEqual([UNREACHABLE]);
  });

  it('monitor - an answer in between restarts the count', () => {
    const m = monitor();
    m.cycle(world({ sshResults: [down] }));
    m.cycle(world({ sshResults: [ok] }));
    expect(m.cycle(world({ sshResults: [down] })).conditions).toEqual([]);
  });

  it('monitor - a changed host key is critical and is not counted as unreachable', () => {
    const m = monitor();
    const changed: SshResult = { id: 'vm:lab/101', reachable: false, hostKeyChanged: true };
    m.cycle(world({ sshResults: [changed] }));
    const result = m.cycle(world({ sshResults: [changed] }));
    expect(result.conditions).toEqual([
      expect.objectContaining({
        kind: 'guest-host-key-changed',
        severity: 'critical',
        detail: expect.stringContaining('pinned'),
      }),
    ]);
    expect(m.cycle(world({ sshResults: [ok] })).cleared).toEqual(['guest-host-key-changed:vm:lab/101']);
  });

  it('monitor - guest disk, load and failed units from the last check that reached it', () => {
    const m = monitor();
    const sick: SshResult = {
      ...ok,
      disk: 0.97,
      load: 9,
      units: [
        { name: 'nginx.service', active: 'failed' },
        { name: 'sshd.service', active: 'active' },
      ],
    };
    const result = m.cycle(world({ sshResults: [sick] }));
    expect(keys(result)).toEqual([
      'guest-disk-high:vm:lab/101',
      'guest-load-high:vm:lab/101',
      'guest-unit-failed:vm:lab/101',
    ]);
    expect(result.conditions.map((c) => c.severity)).toEqual(['critical', 'critical', 'warning']);
    expect(result.conditions[0]?.detail).toBe('VM lab/101 (web1) has a file system 97% full (warning above 85%)');
    expect(result.conditions[2]?.detail).toBe('VM lab/101 (web1) has failed units: nginx.service');
    // Unreachable now: what it last showed still stands.
    expect(keys(m.cycle(world({ sshResults: [down] })))).toHaveLength(3);
    expect(m.cycle(world({ sshResults: [ok] })).cleared).toHaveLength(3);
  });

  it('monitor - host SSH checks use the node label and its CPU count', () => {
    const result = monitor().cycle(
      world({ hostList: [host({ maxcpu: 4 })], sshResults: [{ id: 'host:lab/pve1', reachable: true, load: 10 }] }),
    );
    expect(result.conditions).toEqual([
      expect.objectContaining({ kind: 'guest-load-high', subject: 'host:lab/pve1', severity: 'warning' }),
    ]);
  });

  it('monitor - a guest whose VM is gone is forgotten, and its conditions clear', () => {
    const m = monitor();
    m.cycle(world({ sshResults: [down] }));
    m.cycle(world({ sshResults: [down] }));
    const gone = m.cycle(world({ vmList: [vm({ vmid: 102 })] }));
    expect(gone.cleared).toEqual([UNREACHABLE]);
    expect(m.memory.guests).toEqual({});
  });
});
