// Sizes and durations as lab files write them (`4G`, `512M`, `8h`, `1h30m`) and as messages show them.
const SIZE_UNITS_MIB: Readonly<Record<string, number>> = { M: 1, G: 1024, T: 1024 * 1024 };
const DURATION_UNITS_MS: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * A size in MiB: a number in `numberUnit` (M or G, as PVE writes memory and disks), or text with a unit:
 * `512M`, `4G`, `4GiB`, `1T`. Undefined when it is not one, or not a whole number of MiB.
 */
export function parseSize(value: number | string, numberUnit: 'M' | 'G'): number | undefined {
  let mib: number;
  if (typeof value === 'number') {
    mib = value * SIZE_UNITS_MIB[numberUnit]!;
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([MGT])(?:i?B)?\s*$/i.exec(value);
    if (!m) return undefined;
    mib = Number(m[1]) * SIZE_UNITS_MIB[m[2]!.toUpperCase()]!;
  }
  return Number.isInteger(mib) && mib > 0 ? mib : undefined;
}

/** `2048` → `2 GiB`, `1536` → `1.5 GiB`, `512` and `1025` → MiB (exact sizes stay exact); free memory `11.6 GiB`. */
export function formatMiB(mib: number): string {
  if (Math.abs(mib) < 1024) return `${Math.floor(mib)} MiB`;
  const gib = mib / 1024;
  if (Number.isInteger(gib)) return `${gib} GiB`;
  if (Number.isInteger(mib) && !Number.isInteger(gib * 10)) return `${mib} MiB`;
  return `${gib.toFixed(1)} GiB`;
}

/** `8h`, `90s`, `1h30m`, `2d` → ms. Undefined when it is not one (a bare number is not: say the unit). */
export function parseDuration(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^(\d+[smhd])+$/.test(trimmed)) return undefined;
  let ms = 0;
  for (const m of trimmed.matchAll(/(\d+)([smhd])/g)) ms += Number(m[1]) * DURATION_UNITS_MS[m[2]!]!;
  return ms;
}

/** ms → `8h`, `1h30m`, `90s` → `1m30s`. */
export function formatDuration(ms: number): string {
  let rest = Math.round(ms / 1000);
  if (rest === 0) return '0s';
  let out = '';
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * size;
  }
  return out;
}
