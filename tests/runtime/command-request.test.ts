// The `command` action at run time: the executor runs an approved command once over SSH (no platform call),
// records its exit and output tail in the audit log, and never runs it again after a restart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { CommandRecord, CommandRunner } from '../../actors/command-executor';
import {
  COMMAND_INTERRUPTED,
  executeCommand,
  lastLine,
  outputTail,
  sshCommandRunner,
} from '../../actors/command-executor';
import { parseConfig } from '../../actors/config';
import type { SshTargetSource } from '../../actors/monitor';
import { Overseer } from '../../actors/overseer';
import { flushMicrotasks, SimulatedClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import type { CommandResult, SshTarget } from '../../adapters/ssh';
import type { RequestContext, RequestEvent } from '../../machines/request.machine';
import { OVERSEER_IDENTITY } from '../../machines/types';
import { StateStore } from '../../state';
import { demoInventory } from '../helpers/inventory';

const COMMAND = 'systemctl restart nginx';
const clock = new SimulatedClock(Date.UTC(2026, 0, 1));
const log = createMemoryLog(clock);

function context(patch: Partial<RequestContext> = {}): RequestContext {
  return {
    spec: {
      id: 'r1',
      action: 'command',
      target: { cluster: 'lab', vmid: 101 },
      params: { command: COMMAND },
      force: false,
      requester: OVERSEER_IDENTITY,
      submittedAt: clock.now(),
      origin: 'overseer',
    },
    checks: [],
    reasons: [],
    expiresAt: clock.now() + 60_000,
    tasks: [],
    cancelRequested: false,
    ...patch,
  };
}

async function run(
  ctx: RequestContext,
  ssh: CommandRunner | undefined,
  cancelled = false,
): Promise<{ events: RequestEvent[]; records: CommandRecord[]; durable: number }> {
  const events: RequestEvent[] = [];
  const records: CommandRecord[] = [];
  let durable = 0;
  await executeCommand(
    ctx,
    {
      log,
      now: () => clock.now(),
      ssh,
      durable: () => {
        durable++;
      },
      onCommandResult: (r) => records.push(r),
    },
    (e) => events.push(e),
    () => cancelled,
  );
  return { events, records, durable };
}

const runner = (out: { code: number; stdout?: string; stderr?: string } | Error) => {
  const calls: string[] = [];
  const ssh: CommandRunner = {
    run: async (key, command) => {
      calls.push(`${key} ${command}`);
      if (out instanceof Error) throw out;
      return { stdout: '', stderr: '', ...out };
    },
  };
  return { ssh, calls };
};

describe('command execution', () => {
  it('command - exit 0 succeeds; the intent is recorded and made durable before the command runs', async () => {
    const { ssh, calls } = runner({ code: 0, stdout: 'restarted\n' });
    const { events, records, durable } = await run(context(), ssh);
    expect(calls).toEqual([`lab/101 ${COMMAND}`]);
    expect(events).toEqual([{ type: 'TASK_ISSUING', step: 0, at: clock.now() }, { type: 'EXECUTION_SUCCEEDED' }]);
    expect(durable).toBe(1);
    expect(records).toEqual([
      { id: 'r1', command: COMMAND, target: 'vm:lab/101', exit: 0, stdoutTail: 'restarted', stderrTail: '' },
    ]);
  });

  it('command - a non-zero exit fails with the code and the last line of stderr', async () => {
    const { ssh } = runner({ code: 5, stderr: 'Job for nginx.service failed.\nSee journalctl -xe\n' });
    const { events, records } = await run(context(), ssh);
    expect(events.at(-1)).toEqual({
      type: 'EXECUTION_FAILED',
      error: `command '${COMMAND}' on vm:lab/101 exited 5: See journalctl -xe`,
    });
    expect(records[0]).toMatchObject({ exit: 5, stderrTail: 'Job for nginx.service failed.\nSee journalctl -xe' });
  });

  it('command - an SSH failure fails the request with its message; no exit is recorded', async () => {
    const { ssh } = runner(new Error('ssh vm:lab/101: cannot connect to 10.0.0.5:22: connection refused'));
    const { events, records } = await run(context(), ssh);
    expect(events.at(-1)).toEqual({
      type: 'EXECUTION_FAILED',
      error: 'ssh vm:lab/101: cannot connect to 10.0.0.5:22: connection refused',
    });
    expect(records[0]).toMatchObject({ exit: null, error: expect.stringContaining('connection refused') });
  });

  it('command - an intent recorded before a restart is never run again', async () => {
    const { ssh, calls } = runner({ code: 0 });
    const { events, records } = await run(context({ issuing: { step: 0, at: clock.now() } }), ssh);
    expect(calls).toEqual([]);
    expect(events).toEqual([{ type: 'EXECUTION_FAILED', error: COMMAND_INTERRUPTED }]);
    expect(COMMAND_INTERRUPTED).toBe('interrupted: the command may have run; it is not run again');
    expect(records).toEqual([
      {
        id: 'r1',
        command: COMMAND,
        target: 'vm:lab/101',
        exit: null,
        stdoutTail: '',
        stderrTail: '',
        error: COMMAND_INTERRUPTED,
      },
    ]);
  });

  it('command - cancelled before it started: not run; without SSH: fails', async () => {
    const { ssh, calls } = runner({ code: 0 });
    expect((await run(context(), ssh, true)).events).toEqual([{ type: 'EXECUTION_CANCELLED' }]);
    expect(calls).toEqual([]);
    expect((await run(context(), undefined)).events).toEqual([
      { type: 'EXECUTION_FAILED', error: 'no SSH is configured: cannot run a command on vm:lab/101' },
    ]);
  });

  it('command - output tails keep the end; the last line skips blank ones', () => {
    expect(outputTail('a\nb\n\n')).toBe('a\nb');
    expect(outputTail('x'.repeat(600), 10)).toBe(`…${'x'.repeat(9)}`);
    expect(lastLine('one\ntwo\n  \n')).toBe('two');
    expect(lastLine('')).toBe('');
  });

  it('command - the SSH runner uses the VM target, keeps a non-zero exit, refuses a VM without a target', async () => {
    const target: SshTarget = { id: 'vm:lab/101', host: '10.0.0.5', port: 22, username: 'ops', privateKey: 'k' };
    const runCommand = vi.fn(
      async (): Promise<CommandResult> => ({ code: 3, stdout: '', stderr: 'no', truncated: false }),
    );
    const source = { checker: { check: vi.fn(), runCommand }, targets: () => [target] };
    const ssh = sshCommandRunner(source as unknown as SshTargetSource);
    expect(await ssh.run('lab/101', 'df -h')).toEqual({ code: 3, stdout: '', stderr: 'no' });
    expect(runCommand).toHaveBeenCalledWith(target, 'df -h', { allowNonZero: true });
    await expect(ssh.run('lab/102', 'df -h')).rejects.toThrow('vm:lab/102 has no SSH target configured (ssh.targets)');
  });
});

describe('command requests in the runtime', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('command - a command under way when the process dies fails after the restart, and is not run again', async () => {
    dir = mkdtempSync(join(tmpdir(), 'overseer-command-'));
    const dbPath = join(dir, 'overseer.db');
    const runs: string[] = [];
    const target: SshTarget = { id: 'vm:lab/101', host: '10.0.0.5', port: 22, username: 'ops', privateKey: 'k' };
    const ssh: SshTargetSource = {
      checker: {
        check: async (t) => ({ id: t.id, reachable: true }),
        // The process dies while the command runs: it never answers.
        runCommand: (t, command) => {
          runs.push(`${t.id} ${command}`);
          return new Promise<never>(() => {});
        },
      },
      targets: () => [target],
      intervalMs: 3_600_000,
    };
    const config = parseConfig({ gate: { commands: { allowed: [COMMAND] } } });
    const open = () => {
      const store = StateStore.open(dbPath);
      const overseer = new Overseer({ clock, log, config, store, platforms: new Map(), ssh });
      return { store, overseer };
    };

    const first = open();
    first.overseer.observe(demoInventory({ at: clock.now() }));
    first.overseer.start();
    const submitted = await first.overseer.submit({
      action: 'command',
      target: { cluster: 'lab', vmid: 101 },
      params: { command: COMMAND },
      requester: OVERSEER_IDENTITY,
      origin: 'overseer',
    });
    expect(submitted.decision).toBe('approved');
    for (let i = 0; i < 20 && runs.length === 0; i++) await flushMicrotasks();
    expect(runs).toEqual([`vm:lab/101 ${COMMAND}`]);
    expect(first.store.requests.get(submitted.requestId)?.status).toBe('executing');
    first.overseer.stop();
    first.store.close();

    const second = open();
    try {
      expect(second.overseer.restore().requests).toBe(1);
      second.overseer.startRoot();
      for (let i = 0; i < 20 && second.store.requests.get(submitted.requestId)?.status !== 'failed'; i++) {
        await flushMicrotasks();
      }
      const record = second.store.requests.get(submitted.requestId);
      expect(record).toMatchObject({ status: 'failed', error: COMMAND_INTERRUPTED });
      expect(runs).toHaveLength(1);
      expect(second.store.audit.list({ kind: 'request.command' }).map((r) => r.data)).toEqual([
        expect.objectContaining({ id: submitted.requestId, exit: null, error: COMMAND_INTERRUPTED }),
      ]);
    } finally {
      second.overseer.stop();
      second.store.close();
    }
  });
});
