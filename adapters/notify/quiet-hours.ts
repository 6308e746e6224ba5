// Quiet hours of a notification channel (a backup window, the night): while one holds, notifications below its `pass`
// severity (default: only critical ones pass) are not sent on that channel. They are held back — counted, never
// delivered late — and when the window ends the channel sends ONE summary saying how many were held back and of
// which severity, so nobody is paged with a backlog of stale notices while what happened stays findable
// (`overseer incidents`). A window is `from`–`to` in local time of `timezone` (an IANA name; default UTC), on the
// given `days` (the day it starts; default every day); `to` before `from` crosses midnight.
import { z } from 'zod';
import { SEVERITIES, SEVERITY_RANK, type Severity } from './types';

export const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const hhmm = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, "must be a time 'HH:MM' (00:00 to 23:59)");

const validTimeZone = (tz: string): boolean => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
};

export const quietWindowSchema = z
  .strictObject({
    /** The days a window starts on; default every day. */
    days: z.array(z.enum(WEEKDAYS)).min(1).optional(),
    from: hhmm,
    to: hhmm,
    /** IANA time zone of `from` and `to`. */
    timezone: z.string().refine(validTimeZone, 'must be an IANA time zone, e.g. UTC or Europe/Berlin').default('UTC'),
    /** The lowest severity still sent during the window. */
    pass: z.enum(SEVERITIES).default('critical'),
  })
  .refine((w) => w.from !== w.to, { message: "'from' and 'to' must differ", path: ['to'] });

export type QuietWindow = z.output<typeof quietWindowSchema>;

/** Quiet hours holding at some moment: the lowest severity still sent, and when (epoch ms) the last window ends. */
export interface QuietSpell {
  pass: Severity;
  endsAt: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const SHORT_DAYS: Readonly<Record<string, Weekday>> = {
  Mon: 'mon',
  Tue: 'tue',
  Wed: 'wed',
  Thu: 'thu',
  Fri: 'fri',
  Sat: 'sat',
  Sun: 'sun',
};

/** The weekday and the minute and second of the day at `at` in `timeZone`. */
function localTime(at: number, timeZone: string): { day: Weekday; minute: number; second: number } {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      weekday: 'short',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
    });
    formatters.set(timeZone, format);
  }
  const parts: Record<string, string> = {};
  for (const p of format.formatToParts(at)) parts[p.type] = p.value;
  return {
    day: SHORT_DAYS[parts.weekday ?? ''] ?? 'mon',
    minute: Number(parts.hour) * 60 + Number(parts.minute),
    second: Number(parts.second),
  };
}

const minuteOf = (hm: string): number => Number(hm.slice(0, 2)) * 60 + Number(hm.slice(3, 5));
const dayBefore = (day: Weekday): Weekday => WEEKDAYS[(WEEKDAYS.indexOf(day) + 6) % 7] as Weekday;

/** The quiet hours holding at `at`, if any: of several windows, the strictest `pass` and the latest end count. */
export function quietSpellAt(windows: readonly QuietWindow[], at: number): QuietSpell | undefined {
  let found: QuietSpell | undefined;
  for (const window of windows) {
    const local = localTime(at, window.timezone);
    const from = minuteOf(window.from);
    const to = minuteOf(window.to);
    // The day the spell holding now began on: today, or yesterday for the part of a window after midnight.
    let started: Weekday | undefined;
    if (from < to) started = local.minute >= from && local.minute < to ? local.day : undefined;
    else if (local.minute >= from) started = local.day;
    else if (local.minute < to) started = dayBefore(local.day);
    if (started === undefined || (window.days && !window.days.includes(started))) continue;
    const minutesLeft = (to - local.minute + 1440) % 1440;
    const endsAt = at + minutesLeft * 60_000 - local.second * 1000 - (((at % 1000) + 1000) % 1000);
    const pass = found && SEVERITY_RANK[found.pass] > SEVERITY_RANK[window.pass] ? found.pass : window.pass;
    found = { pass, endsAt: Math.max(endsAt, found?.endsAt ?? endsAt) };
  }
  return found;
}
