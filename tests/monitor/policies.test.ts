import { describe, expect, it } from 'vitest';
import type { Condition, IncidentHistoryEntry, RemediationContext } from '../../machines';
import {
  conditionKey,
  createDefaultRemediationPolicyConfig,
  decideRemediation,
  defaultRemediationPolicyConfig,
} from '../../machines';
import { hostInfo, vmInfo } from './fixtures';

const NOW = 10_000_000;

function stopCondition(): Condition {
  return {
    kind: 'vm-unexpected-stop',
    subject: 'vm:lab/101',
    dedupeKey: conditionKey('vm-unexpected-stop', 'vm:lab/101'),
    severity: 'critical',
    detail: 'VM lab/101 (web1) stopped with no request behind it',
  };
}

function unreachable(consecutive: number): Condition {
  return {
    kind: 'guest-unreachable',
    subject: 'vm:lab/101',
    dedupeKey: conditionKey('guest-unreachable', 'vm:lab/101'),
    severity: 'warning',
    detail: 'VM lab/101 (web1) has not answered over SSH',
    data: { consecutive },
  };
}

function context(over: Partial<RemediationContext> = {}): RemediationContext {
  return {
    history: [],
    now: NOW,
    config: createDefaultRemediationPolicyConfig(),
    vm: vmInfo({ status: 'stopped' }),
    host: hostInfo(),
    cluster: { cluster: 'lab', reachable: true, quorate: true },
    isProduction: false,
    ...over,
  };
}

/** A past incident on the subject with a start at each of `times` (all finished). */
const restartedAt = (...times: number[]): IncidentHistoryEntry[] =>
  times.map((at, i) => ({
    id: `i${i}`,
    kind: 'vm-unexpected-stop',
    status: 'resolved',
    openedAt: at - 1,
    resolvedAt: at + 1,
    actions: [{ at, action: 'start', requestId: `r${i}`, ok: true, result: 'started' }],
  }));

describe('remediation policies', () => {
  it('policies - defaults', () => {
    expect(defaultRemediationPolicyConfig).toMatchObject({
      restart: { maxRestarts: 3, withinSeconds: 600 },
      allowProduction: false,
      unreachableBeforeReboot: 3,
      commands: {},
    });
    expect(Object.isFrozen(defaultRemediationPolicyConfig.restart)).toBe(true);
  });

  it('policies - a VM that stopped unexpectedly is started again', () => {
    expect(decideRemediation(stopCondition(), context())).toEqual({
      kind: 'request',
      action: 'start',
      target: { cluster: 'lab', vmid: 101 },
      reason: expect.stringContaining('starting it again'),
    });
  });

  it('policies - restart intensity: N restarts within T, then escalate and stop trying', () => {
    const within = [NOW - 500_000, NOW - 300_000];
    expect(decideRemediation(stopCondition(), context({ history: restartedAt(...within) })).kind).toBe('request');
    const third = [...within, NOW - 100_000];
    const decision = decideRemediation(stopCondition(), context({ history: restartedAt(...third) }));
    expect(decision).toEqual({ kind: 'escalate', reason: expect.stringContaining('restarted 3 times within 600s') });
    // Restarts older than the window do not count.
    const old = [NOW - 900_000, NOW - 700_000, NOW - 600_000];
    expect(decideRemediation(stopCondition(), context({ history: restartedAt(...old) })).kind).toBe('request');
    // Once the incident is escalated, Overseer stops trying.
    const escalated: IncidentHistoryEntry = {
      id: 'i9',
      kind: 'vm-unexpected-stop',
      status: 'escalated',
      openedAt: NOW - 50_000,
      actions: [{ at: NOW - 40_000, action: 'escalate', result: 'gave up' }],
    };
    expect(decideRemediation(stopCondition(), context({ history: [escalated] }))).toEqual({
      kind: 'none',
      reason: expect.stringContaining('escalated (incident i9)'),
    });
  });

  it('policies - a start still under way is never issued twice', () => {
    const pending: IncidentHistoryEntry = {
      kind: 'vm-unexpected-stop',
      status: 'remediating',
      openedAt: NOW - 20_000,
      actions: [{ at: NOW - 10_000, action: 'start', requestId: 'r7' }],
    };
    expect(decideRemediation(stopCondition(), context({ history: [pending] }))).toEqual({
      kind: 'none',
      reason: expect.stringContaining('already under way (request r7)'),
    });
  });

  it('policies - a production VM is not restarted unless the policy allows it', () => {
    expect(decideRemediation(stopCondition(), context({ isProduction: true }))).toMatchObject({
      kind: 'notify',
      reason: expect.stringContaining('production'),
    });
    const config = { ...createDefaultRemediationPolicyConfig(), allowProduction: true };
    expect(decideRemediation(stopCondition(), context({ isProduction: true, config })).kind).toBe('request');
  });

  it('policies - HA-managed VM, offline host, no quorum: none, with the reason', () => {
    expect(decideRemediation(stopCondition(), context({ vm: vmInfo({ status: 'stopped', haManaged: true }) }))).toEqual(
      {
        kind: 'none',
        reason: expect.stringContaining('left to Proxmox HA'),
      },
    );
    expect(decideRemediation(stopCondition(), context({ host: hostInfo({ status: 'offline' }) }))).toEqual({
      kind: 'none',
      reason: expect.stringContaining('host offline'),
    });
    expect(decideRemediation(stopCondition(), context({ host: undefined }))).toMatchObject({
      kind: 'none',
      reason: expect.stringContaining('host offline'),
    });
    expect(
      decideRemediation(stopCondition(), context({ cluster: { cluster: 'lab', reachable: true, quorate: false } })),
    ).toEqual({ kind: 'none', reason: expect.stringContaining('no quorum') });
  });

  it('policies - a VM already running again, or gone, is left alone', () => {
    expect(decideRemediation(stopCondition(), context({ vm: vmInfo({ status: 'running' }) }))).toMatchObject({
      kind: 'none',
      reason: expect.stringContaining('running again'),
    });
    expect(decideRemediation(stopCondition(), context({ vm: undefined })).kind).toBe('none');
  });

  it('policies - locks, offline hosts and quorum loss are notified', () => {
    expect(decideRemediation(stopCondition(), context({ vm: vmInfo({ status: 'stopped', lock: 'backup' }) }))).toEqual({
      kind: 'notify',
      reason: expect.stringContaining("'backup' lock"),
    });
    for (const kind of ['vm-lock-stuck', 'host-offline', 'cluster-no-quorum'] as const) {
      const condition: Condition = { ...stopCondition(), kind, dedupeKey: kind, detail: `${kind} detail` };
      expect(decideRemediation(condition, context())).toEqual({ kind: 'notify', reason: `${kind} detail` });
    }
  });

  it('policies - a crash loop or a changed host key escalates at once', () => {
    const loop: Condition = { ...stopCondition(), kind: 'vm-crash-loop', detail: 'crash-looping' };
    expect(decideRemediation(loop, context())).toEqual({ kind: 'escalate', reason: 'crash-looping' });
  });

  it('policies - a guest unreachable N times in a row is rebooted', () => {
    const running = context({ vm: vmInfo({ status: 'running' }) });
    expect(decideRemediation(unreachable(2), running)).toEqual({
      kind: 'none',
      reason: 'unreachable 2 of 3 times before a reboot',
    });
    expect(decideRemediation(unreachable(3), running)).toEqual({
      kind: 'request',
      action: 'reboot',
      target: { cluster: 'lab', vmid: 101 },
      force: false,
      reason: expect.stringContaining('3 times in a row'),
    });
    // The same safety rules as a restart.
    expect(
      decideRemediation(unreachable(3), context({ vm: vmInfo({ status: 'running', haManaged: true }) })).reason,
    ).toContain('left to Proxmox HA');
    expect(decideRemediation(unreachable(3), context({ ...running, isProduction: true })).kind).toBe('notify');
    const config = { ...createDefaultRemediationPolicyConfig(), allowProduction: true };
    expect(decideRemediation(unreachable(3), context({ ...running, isProduction: true, config }))).toMatchObject({
      kind: 'request',
      action: 'reboot',
      force: true,
    });
  });

  it('policies - a configured command for a condition kind is run, within the same intensity', () => {
    const config = {
      ...createDefaultRemediationPolicyConfig(),
      commands: { 'guest-disk-high': 'journalctl --vacuum-size=200M' },
    };
    const disk: Condition = {
      kind: 'guest-disk-high',
      subject: 'vm:lab/101',
      dedupeKey: conditionKey('guest-disk-high', 'vm:lab/101'),
      severity: 'warning',
      detail: 'disk 90% full',
    };
    expect(decideRemediation(disk, context({ config }))).toEqual({
      kind: 'command',
      command: 'journalctl --vacuum-size=200M',
      target: 'vm:lab/101',
      reason: 'configured command for guest-disk-high',
    });
    const ran: IncidentHistoryEntry = {
      kind: 'guest-disk-high',
      status: 'open',
      openedAt: NOW - 300_000,
      actions: [NOW - 300_000, NOW - 200_000, NOW - 100_000].map((at) => ({ at, action: 'command', ok: true })),
    };
    expect(decideRemediation(disk, context({ config, history: [ran] })).kind).toBe('escalate');
    // Without a command, a usage condition is only notified.
    expect(decideRemediation(disk, context()).kind).toBe('notify');
  });
});
