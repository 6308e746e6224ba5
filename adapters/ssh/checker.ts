// Health checks and remediation commands over SSH: reachability, uptime, load, disk, systemd units.
// Each call opens one session and closes it; the whole call is bounded by a deadline on the injected clock.
import type { Clock } from '../clock';
import { SshError, SshExitError, SshTimeoutError } from './errors';
import { isValidUnitName, parseDf, parseIsActive, parseLoadavg, parseUptime, shellQuote } from './parse';
import { openSession, type Session, type SessionObservation } from './session';
import {
  type CommandResult,
  DEFAULT_SSH_TIMEOUT_MS,
  OUTPUT_CAP_BYTES,
  type RunCommandOptions,
  type SshChecker,
  type SshCheckerDeps,
  type SshCheckResult,
  type SshErrorInfo,
  type SshTarget,
  type UnitState,
} from './types';

/** The commands a check runs (LC_ALL=C keeps df's output in the format parsed). */
export const CHECK_COMMANDS = {
  uptime: 'cat /proc/uptime',
  load: 'cat /proc/loadavg',
  disk: 'LC_ALL=C df -P',
  unit: (name: string): string => `systemctl is-active -- ${shellQuote(name)}`,
} as const;

interface Deadline {
  signal: AbortSignal;
  /** 'connect' until the session is ready, then 'command'. */
  phase: 'connect' | 'command';
  cancel(): void;
}

function startDeadline(clock: Clock, target: SshTarget, timeoutMs: number): Deadline {
  const controller = new AbortController();
  const deadline: Deadline = {
    signal: controller.signal,
    phase: 'connect',
    cancel: () => clock.clearTimeout(handle),
  };
  const handle = clock.setTimeout(() => {
    const what = deadline.phase === 'connect' ? `no session with ${target.host}:${target.port}` : 'commands unfinished';
    controller.abort(
      new SshTimeoutError(
        `ssh ${target.id}: timed out after ${timeoutMs} ms (${what})`,
        target.id,
        timeoutMs,
        deadline.phase,
      ),
    );
  }, timeoutMs);
  return deadline;
}

function errorInfo(err: unknown): SshErrorInfo {
  if (err instanceof Error) return { name: err.name, message: err.message };
  return { name: 'Error', message: String(err) };
}

function timeoutOf(target: SshTarget, override?: number): number {
  const ms = override ?? target.timeoutMs ?? DEFAULT_SSH_TIMEOUT_MS;
  return Number.isFinite(ms) && ms > 0 ? ms : DEFAULT_SSH_TIMEOUT_MS;
}

export function createSshChecker(deps: SshCheckerDeps): SshChecker {
  const { clock, log, knownHosts } = deps;

  const open = async (target: SshTarget, deadline: Deadline, seen: SessionObservation): Promise<Session> => {
    const session = await openSession({ target, knownHosts, log, signal: deadline.signal, seen });
    deadline.phase = 'command';
    return session;
  };

  async function checkUnits(session: Session, units: string[], signal: AbortSignal): Promise<UnitState[]> {
    const states: UnitState[] = [];
    for (const name of units) {
      if (!isValidUnitName(name)) {
        states.push({ name, active: false, error: 'invalid unit name' });
        continue;
      }
      const r = await session.exec(CHECK_COMMANDS.unit(name), signal, OUTPUT_CAP_BYTES);
      states.push(parseIsActive(name, r.code, r.stdout, r.stderr));
    }
    return states;
  }

  async function check(target: SshTarget): Promise<SshCheckResult> {
    const result: SshCheckResult = { id: target.id, reachable: false };
    const seen: SessionObservation = {};
    const warnings: string[] = [];
    const started = clock.now();
    let deadline: Deadline | undefined;
    let session: Session | undefined;
    try {
      deadline = startDeadline(clock, target, timeoutOf(target));
      session = await open(target, deadline, seen);
      result.reachable = true;
      result.latencyMs = Math.max(0, clock.now() - started);
      const { signal } = deadline;

      const run = async (label: string, command: string) => {
        const r = await session!.exec(command, signal, OUTPUT_CAP_BYTES);
        if (r.code !== 0 && !r.stdout.trim()) {
          warnings.push(`${label}: exit ${r.code}${r.stderr.trim() ? `: ${r.stderr.trim().split('\n')[0]}` : ''}`);
          return undefined;
        }
        return r.stdout;
      };
      const uptime = await run('uptime', CHECK_COMMANDS.uptime);
      if (uptime !== undefined) {
        const v = parseUptime(uptime);
        if (v === undefined) warnings.push('uptime: unreadable output');
        else result.uptimeSeconds = v;
      }
      const load = await run('load', CHECK_COMMANDS.load);
      if (load !== undefined) {
        const v = parseLoadavg(load);
        if (v === undefined) warnings.push('load: unreadable output');
        else result.load = v;
      }
      // df exits non-zero when one filesystem is unreadable but still reports the others.
      const disk = await run('disk', CHECK_COMMANDS.disk);
      if (disk !== undefined) result.disk = parseDf(disk);
      if (target.units && target.units.length > 0) result.units = await checkUnits(session, target.units, signal);
    } catch (err) {
      result.error = errorInfo(err);
      if (!(err instanceof SshError)) log.error(`ssh ${target.id}: check failed unexpectedly`, err);
    } finally {
      deadline?.cancel();
      if (deadline?.signal.aborted) session?.abort();
      else session?.close();
    }
    if (seen.hostKey !== undefined) result.hostKey = seen.hostKey;
    if (seen.hostKeyChanged) {
      result.hostKeyChanged = true;
      log.error(`ssh ${target.id}: host key changed (presented ${seen.hostKey}); refusing to connect`);
    }
    if (warnings.length > 0) result.warnings = warnings;
    return result;
  }

  async function runCommand(target: SshTarget, command: string, opts: RunCommandOptions = {}): Promise<CommandResult> {
    const seen: SessionObservation = {};
    const deadline = startDeadline(clock, target, timeoutOf(target, opts.timeoutMs));
    let session: Session | undefined;
    try {
      session = await open(target, deadline, seen);
      const r = await session.exec(command, deadline.signal, OUTPUT_CAP_BYTES);
      if (r.code !== 0 && !opts.allowNonZero) {
        const how = r.signal ? `was killed by ${r.signal}` : `exited with code ${r.code}`;
        const detail = r.stderr.trim().split('\n')[0];
        throw new SshExitError(
          `ssh ${target.id}: command ${how}${detail ? `: ${detail.slice(0, 300)}` : ''}`,
          target.id,
          r.code,
          r.stdout,
          r.stderr,
          r.signal,
        );
      }
      return { code: r.code, stdout: r.stdout, stderr: r.stderr, truncated: r.truncated };
    } finally {
      deadline.cancel();
      if (deadline.signal.aborted) session?.abort();
      else session?.close();
      if (seen.hostKeyChanged)
        log.error(`ssh ${target.id}: host key changed (presented ${seen.hostKey}); refusing to connect`);
    }
  }

  return { check, runCommand };
}
