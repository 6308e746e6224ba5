// Reading the output of the check commands. Pure functions: text in, values out (undefined when unreadable).
import type { DiskUsage, UnitState } from './types';

const DECIMAL = /^\d+(?:\.\d+)?$/;

/** A non-negative decimal number, or undefined. */
function decimal(token: string | undefined): number | undefined {
  return token !== undefined && DECIMAL.test(token) ? Number(token) : undefined;
}

/** `cat /proc/uptime` → seconds since boot. */
export function parseUptime(text: string): number | undefined {
  return decimal(text.trim().split(/\s+/)[0]);
}

/** `cat /proc/loadavg` → the 1, 5 and 15 minute load averages. */
export function parseLoadavg(text: string): [number, number, number] | undefined {
  const [a, b, c] = text.trim().split(/\s+/).slice(0, 3).map(decimal);
  return a === undefined || b === undefined || c === undefined ? undefined : [a, b, c];
}

// <filesystem> <blocks> <used> <available> <capacity%> <mount>; the filesystem and mount may hold spaces.
const DF_LINE = /^(.*?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(?:\d+%|-)\s+(\/.*)$/;

/**
 * `df -P` (POSIX format) → used fraction per mount, used / (used + available) as df computes Capacity.
 * Filesystems with no space at all (pseudo filesystems) are left out.
 */
export function parseDf(text: string): DiskUsage[] {
  const out: DiskUsage[] = [];
  for (const line of text.split('\n')) {
    const m = DF_LINE.exec(line.trimEnd());
    if (!m) continue;
    const used = Number(m[3]);
    const available = Number(m[4]);
    if (used + available <= 0) continue;
    out.push({ mount: m[5]!, usedFraction: used / (used + available) });
  }
  return out;
}

/** What systemctl answers with; anything else (e.g. a bus error message) is not a state. */
const UNIT_STATES = new Set([
  'active',
  'inactive',
  'failed',
  'activating',
  'deactivating',
  'reloading',
  'refreshing',
  'maintenance',
  'unknown',
]);

/** Unit names as systemd accepts them (letters, digits, `:-_.\@`), so they can be passed to a shell safely. */
const UNIT_NAME = /^[A-Za-z0-9:_.@-]{1,255}$/;

export function isValidUnitName(name: string): boolean {
  return UNIT_NAME.test(name) && !name.startsWith('-');
}

/** The exit code a POSIX shell gives for a command it cannot find. */
const COMMAND_NOT_FOUND = 127;

/** `systemctl is-active -- <unit>` → the unit's state; inactive with an error when it could not be read. */
export function parseIsActive(name: string, code: number, stdout: string, stderr: string): UnitState {
  const state = stdout.trim().split('\n')[0]?.trim() ?? '';
  if (code === COMMAND_NOT_FOUND || /systemctl: (command )?not found|No such file/i.test(stderr)) {
    return { name, active: false, error: 'systemctl is not available on the host' };
  }
  if (UNIT_STATES.has(state)) return { name, active: state === 'active' && code === 0, state };
  const detail = stderr.trim().split('\n')[0]?.trim();
  return { name, active: false, error: detail || `systemctl is-active exited with code ${code}` };
}

/** Single-quotes a word for a POSIX shell. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
