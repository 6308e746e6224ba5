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
