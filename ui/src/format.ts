// Formatting for people: sizes, percentages, times, and which tone (colour family) a state is shown in.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

export function bytes(n: number): string {
  if (!Number.isFinite(n) || n <= 0) return '0 B';
  const i = Math.min(UNITS.length - 1, Math.floor(Math.log(n) / Math.log(1024)));
  const value = n / 1024 ** i;
  return `${value >= 100 || i === 0 ? value.toFixed(0) : value.toFixed(1)} ${UNITS[i]}`;
}

export const percent = (fraction: number): string =>
  `${(Math.max(0, fraction) * 100).toFixed(fraction < 0.1 ? 1 : 0)} %`;

const pad = (n: number) => String(n).padStart(2, '0');

/** `2026-12-01 13:07:25` in the browser's time zone. */
export function dateTime(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '—';
  const d = new Date(ms);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** `13:07:25.123`. */
export function clock(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${String(d.getMilliseconds()).padStart(3, '0')}`;
}

/** `5 s ago`, `3 min ago`, `2 h ago`, `4 d ago`; `in 3 min` for the future. */
export function ago(ms: number | undefined | null, now = Date.now()): string {
  if (ms === undefined || ms === null || !Number.isFinite(ms)) return 'never';
  const diff = Math.round((now - ms) / 1000);
  const abs = Math.abs(diff);
  const text =
    abs < 60
      ? `${abs} s`
      : abs < 3600
        ? `${Math.round(abs / 60)} min`
        : abs < 86_400
          ? `${Math.round(abs / 3600)} h`
          : `${Math.round(abs / 86_400)} d`;
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

export function duration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  if (seconds < 86_400) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} d`;
}

export type Tone = 'ok' | 'idle' | 'warn' | 'bad' | 'busy';

const TONES: Record<string, Tone> = {
  running: 'ok',
  online: 'ok',
  completed: 'ok',
  approved: 'ok',
  ready: 'ok',
  pass: 'ok',
  idle: 'ok',
  true: 'ok',
  stopped: 'idle',
  cancelled: 'idle',
  expired: 'idle',
  nothing_to_do: 'idle',
  never_approved: 'idle',
  destroyed: 'idle',
  rolled_back: 'idle',
  resolved: 'idle',
  skipped: 'idle',
  info: 'idle',
  planned: 'idle',
  removed: 'idle',
  none: 'idle',
  unknown: 'warn',
  paused: 'warn',
  locked: 'warn',
  awaiting_approval: 'warn',
  approval: 'warn',
  degraded: 'warn',
  remediating: 'warn',
  open: 'warn',
  warning: 'warn',
  drift: 'warn',
  failed: 'bad',
  denied: 'bad',
  deny: 'bad',
  offline: 'bad',
  escalated: 'bad',
  critical: 'bad',
  false: 'bad',
  gone: 'bad',
};

/** The tone of a state, outcome or severity; anything under way is `busy`. */
export const toneOf = (value: string): Tone => TONES[value.split('.')[0] ?? value] ?? 'busy';

/** `awaiting_approval` → `awaiting approval`. */
export const words = (value: string): string => value.replace(/_/g, ' ');
