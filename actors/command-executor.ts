// The execution of a `command` request: one shell command from the gate's allow-list, run over SSH on the target
// VM's guest. No platform call. At most once: the intent is recorded (TASK_ISSUING) and made durable before the
// command starts, and a request found executing with that intent recorded is failed, never run again, since the
// command may already have run. The exit and the tail of the output go to the audit log (`request.command`).
import type { Log } from '../adapters/log';
import type { RequestContext, RequestEvent } from '../machines/request.machine';
import type { CommandParams } from '../machines/types';
import { actorId, vmKey } from '../machines/types';
import type { SshTargetSource } from './monitor';

/** What a command printed and how it exited. */
export interface CommandOutput {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a shell command on the guest of a VM (`<cluster>/<vmid>`); rejects when it cannot be run at all. */
export interface CommandRunner {
  run(vmKey: string, command: string): Promise<CommandOutput>;
}

/** What the audit log records of a command request (kind `request.command`). */
export interface CommandRecord {
  /** The request's id. */
  id: string;
  command: string;
  /** The VM's actor id, `vm:<cluster>/<vmid>`. */
  target: string;
  /** The command's exit code; null when it did not run to an exit (SSH failure, interrupted). */
  exit: number | null;
  stdoutTail: string;
  stderrTail: string;
  /** Why there is no exit code. */
  error?: string | undefined;
}

export const AUDIT_COMMAND_KIND = 'request.command';

/** Why a command request restored in `executing` after its intent was recorded fails. */
export const COMMAND_INTERRUPTED = 'interrupted: the command may have run; it is not run again';

/** How much of each output stream the audit log keeps (the end, where errors are). */
export const OUTPUT_TAIL_CHARS = 500;

/** The last `max` characters of `text`, without a trailing line break. */
export function outputTail(text: string, max = OUTPUT_TAIL_CHARS): string {
  const trimmed = text.replace(/\s+$/, '');
  return trimmed.length <= max ? trimmed : `…${trimmed.slice(trimmed.length - max + 1)}`;
}

/** The last non-blank line of `text`, trimmed ('' when there is none). */
export function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim());
  for (let i = lines.length - 1; i >= 0; i--) if (lines[i]) return lines[i] as string;
  return '';
}

/** A runner over the configured SSH targets (ids `vm:<cluster>/<vmid>`, host keys pinned). */
export function sshCommandRunner(source: Pick<SshTargetSource, 'checker' | 'targets'>): CommandRunner {
  return {
    async run(key, command) {
      const id = `vm:${key}`;
      const target = source.targets().find((t) => t.id === id);
      if (!target) throw new Error(`${id} has no SSH target configured (ssh.targets)`);
      const out = await source.checker.runCommand(target, command, { allowNonZero: true });
      return { code: out.code, stdout: out.stdout, stderr: out.stderr };
    },
  };
}

export interface CommandExecutorDeps {
  log: Log;
  now: () => number;
  /** Where commands run; without it a command request fails. */
  ssh?: CommandRunner | undefined;
  /**
   * Makes what the request recorded so far durable (called after the intent is recorded, before the command runs); a
   * promise is awaited, and a rejection means the command is not run.
   */
  durable?: (() => void | Promise<void>) | undefined;
  /** Called with the outcome of every command request that got as far as running (or being refused a re-run). */
  onCommandResult?: ((record: CommandRecord) => void) | undefined;
}

/**
 * Runs a `command` request and reports its end to the request: EXECUTION_SUCCEEDED on exit 0, EXECUTION_FAILED
 * otherwise, EXECUTION_CANCELLED when a cancellation came before the command started.
 */
export async function executeCommand(
  context: RequestContext,
  deps: CommandExecutorDeps,
  send: (event: RequestEvent) => void,
  cancelled: () => boolean,
): Promise<void> {
  const { spec } = context;
  const command = (spec.params as Partial<CommandParams>).command;
  if (typeof command !== 'string' || spec.target.vmid === undefined) {
    send({ type: 'EXECUTION_FAILED', error: 'a command request needs params.command and a target VM' });
    return;
  }
  const key = vmKey(spec.target.cluster, spec.target.vmid);
  const target = actorId.vm(spec.target.cluster, spec.target.vmid);
  const record = (outcome: Omit<CommandRecord, 'id' | 'command' | 'target'>) => {
    try {
      deps.onCommandResult?.({ id: spec.id, command, target, ...outcome });
    } catch (error) {
      deps.log.error(`req:${spec.id}: recording the command's result failed`, error);
    }
  };

  // The intent was recorded before a restart: the command may have run, and it is not one to run twice.
  if (context.issuing !== undefined || context.tasks.length > 0) {
    deps.log.warn(`req:${spec.id}: command on ${target} was under way at a restart: ${COMMAND_INTERRUPTED}`);
    record({ exit: null, stdoutTail: '', stderrTail: '', error: COMMAND_INTERRUPTED });
    send({ type: 'EXECUTION_FAILED', error: COMMAND_INTERRUPTED });
    return;
  }
  if (cancelled()) {
    send({ type: 'EXECUTION_CANCELLED' });
    return;
  }
  if (!deps.ssh) {
    send({ type: 'EXECUTION_FAILED', error: `no SSH is configured: cannot run a command on ${target}` });
    return;
  }

  send({ type: 'TASK_ISSUING', step: 0, at: deps.now() });
  const intent = deps.durable?.();
  if (intent) {
    try {
      await intent;
    } catch (error) {
      const message = `the intent was not made durable: ${error instanceof Error ? error.message : String(error)}`;
      send({ type: 'EXECUTION_FAILED', error: message });
      return;
    }
  }
  deps.log.info(`req:${spec.id}: running ${JSON.stringify(command)} on ${target}`);
  let out: CommandOutput;
  try {
    out = await deps.ssh.run(key, command);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    record({ exit: null, stdoutTail: '', stderrTail: '', error: message });
    send({ type: 'EXECUTION_FAILED', error: message });
    return;
  }
  record({ exit: out.code, stdoutTail: outputTail(out.stdout), stderrTail: outputTail(out.stderr) });
  if (out.code === 0) {
    send({ type: 'EXECUTION_SUCCEEDED' });
    return;
  }
  const why = lastLine(out.stderr);
  send({
    type: 'EXECUTION_FAILED',
    error: `command '${command}' on ${target} exited ${out.code}${why ? `: ${why.slice(0, 300)}` : ''}`,
  });
}
