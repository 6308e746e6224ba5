import type { Clock } from './clock';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Where log lines go. Every state change goes through `stateChange`, in one fixed format. */
export interface Log {
  stateChange(actorId: string, from: string, to: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string, cause?: unknown): void;
}

/** The one format of a state change line: `<time> <actor-id>: state changed from 'x' to 'y'`. */
export function formatStateChange(time: number, actorId: string, from: string, to: string): string {
  return `${new Date(time).toISOString()} ${actorId}: state changed from '${from}' to '${to}'`;
}

export interface LineLogOptions {
  clock: Clock;
  write: (line: string) => void;
  /** Lowest level written for info/warn/error lines; state changes are always written. */
  level?: LogLevel;
}

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** A log writing one line per entry (stdout in production, an array in tests). */
export function createLineLog({ clock, write, level = 'info' }: LineLogOptions): Log {
  const at = () => new Date(clock.now()).toISOString();
  const emit = (lvl: LogLevel, message: string) => {
    if (RANK[lvl] >= RANK[level]) write(`${at()} ${lvl}: ${message}`);
  };
  return {
    stateChange: (actorId, from, to) => write(formatStateChange(clock.now(), actorId, from, to)),
    info: (m) => emit('info', m),
    warn: (m) => emit('warn', m),
    error: (m, cause) => emit('error', cause ? `${m}: ${cause instanceof Error ? cause.message : String(cause)}` : m),
  };
}

/** A log that remembers its lines (tests, scenario runs). */
export function createMemoryLog(clock: Clock, level: LogLevel = 'info'): Log & { lines: string[] } {
  const lines: string[] = [];
  return Object.assign(createLineLog({ clock, write: (l) => lines.push(l), level }), { lines });
}

/** Lines waiting for the end of the event-loop turn, and the one write that takes them out. */
export interface TurnLines {
  write(line: string): void;
  /** Writes what waits now (shutdown, exit). */
  flush(): void;
}

/** At most this many lines wait for their turn's end; more are written at once (one sync of a large fleet). */
const MAX_WAITING_LINES = 1_000;

/**
 * Gathers the lines written during one event-loop turn and hands them to `out` as one chunk when the turn ends
 * (setImmediate). A decision logs a line per state change of its request, and on a pipe or a terminal Node writes
 * stdout synchronously, a system call per write: a tenth of the core's busy time under load (bench/README,
 * session 13). The lines keep their order and format; a SIGKILL loses at most the lines of the turn it interrupts
 * (the records are in SQLite, not in the log).
 */
export function createTurnLines(out: (chunk: string) => void): TurnLines {
  let waiting: string[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (waiting.length === 0) return;
    const chunk = `${waiting.join('\n')}\n`;
    waiting = [];
    out(chunk);
  };
  return {
    write(line) {
      waiting.push(line);
      if (waiting.length >= MAX_WAITING_LINES) flush();
      else if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}
