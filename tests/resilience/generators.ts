// Seeded generators of hostile input for the gateway fuzz suite: the same seed gives the same inputs.

/** mulberry32: a small, fast, seedable PRNG (32-bit state). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** An integer in [min, max]. */
  range(min: number, max: number): number {
    return min + this.int(max - min + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
  /** Picks by weight: `[[weight, value], ...]`. */
  weighted<T>(items: readonly (readonly [number, T])[]): T {
    const total = items.reduce((sum, [w]) => sum + w, 0);
    let r = this.next() * total;
    for (const [w, value] of items) {
      r -= w;
      if (r < 0) return value;
    }
    return items[items.length - 1]![1];
  }
}

// --- strings ------------------------------------------------------------------------------------

const ASCII = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.:/~!$&\'()*+,;=@%?#[]{}<>"\\ `^|';
/** Characters that break parsers, terminals, logs and normalisation. */
const NASTY_CHARS = [
  '\u0000',
  '\u0001',
  '\u0007',
  '\b',
  '\t',
  '\n',
  '\r',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u00a0',
  '\u00ad',
  '\u200b',
  '\u200d',
  '\u200e',
  '\u202e',
  '\u2028',
  '\u2029',
  '\ufeff',
  '\ufffd',
  '\uffff',
  '\ud800', // lone high surrogate
  '\udfff', // lone low surrogate
  '\u0301', // combining acute
  'é',
  'ß',
  'İ',
  'Ω',
  '中',
  '𝕏',
  '😀',
  '👩‍👩‍👧',
  'ﷺ',
  '١',
  '１',
];

export const SPECIAL_STRINGS = [
  '',
  ' ',
  '  ',
  'null',
  'undefined',
  'true',
  '0',
  '-1',
  '1e309',
  'NaN',
  'Infinity',
  '-0',
  '0x10',
  '99999999999999999999',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '../../etc/passwd',
  '..',
  '.',
  '%00',
  '%',
  '%zz',
  '%E0%A4%A',
  '\u0000',
  'lab',
  'lab/101',
  'lab/114',
  'lab/-1',
  'lab/1e309',
  'lab/',
  '/101',
  'lab//101',
  'lab/101/102',
  '<script>alert(1)</script>',
  "' OR 1=1 --",
  '"; DROP TABLE requests; --',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a log4shell-style payload, on purpose
  '${jndi:ldap://x/a}',
  '{{7*7}}',
  '$(reboot)',
  'overseer.evt.>',
  'overseer.>',
  '>',
  '*',
  'a.b',
  'a b',
  'ovs_',
  'Bearer',
];

export function asciiString(rng: Rng, max = 24): string {
  let s = '';
  const n = rng.int(max + 1);
  for (let i = 0; i < n; i++) s += ASCII[rng.int(ASCII.length)];
  return s;
}

export function unicodeString(rng: Rng, max = 24): string {
  let s = '';
  const n = rng.range(1, max);
  for (let i = 0; i < n; i++) s += rng.chance(0.5) ? rng.pick(NASTY_CHARS) : ASCII[rng.int(ASCII.length)];
  return s;
}

/** A long string (sometimes past every field limit, sometimes past the body limit). */
export function hugeString(rng: Rng): string {
  const len = rng.pick([65, 129, 257, 513, 1001, 4096, 20_000]);
  const unit = rng.pick(['a', 'é', '😀', '\u0000', '%', '../']);
  return unit.repeat(Math.ceil(len / unit.length)).slice(0, len);
}

export function anyString(rng: Rng): string {
  return rng.weighted<() => string>([
    [4, () => rng.pick(SPECIAL_STRINGS)],
    [3, () => asciiString(rng)],
    [3, () => unicodeString(rng)],
    [1, () => hugeString(rng)],
  ])();
}

// --- numbers and JSON values --------------------------------------------------------------------

export const SPECIAL_NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.5,
  -0.5,
  101,
  114,
  9000,
  2 ** 31,
  -(2 ** 31),
  2 ** 32,
  2 ** 53,
  2 ** 53 + 2,
  -(2 ** 53),
  1e21,
  1e308,
  -1e308,
  Number.MAX_VALUE,
  Number.MIN_VALUE,
  1e-7,
  999_999_999,
  1_000_000_000,
];

/** Number literals JSON.parse refuses or reads surprisingly (spliced into JSON text). */
export const NUMBER_TEXTS = [
  '1e309',
  '-1e309',
  'NaN',
  'Infinity',
  '-Infinity',
  '-0',
  '01',
  '1.',
  '.5',
  '0x1F',
  '+1',
  '1e',
  '1_000',
  '١',
];

export const PROTO_KEYS = ['__proto__', 'constructor', 'prototype', '__defineGetter__', 'toJSON', 'valueOf'];

export function randomKey(rng: Rng): string {
  return rng.weighted<() => string>([
    [3, () => rng.pick(PROTO_KEYS)],
    [3, () => asciiString(rng, 12)],
    [2, () => unicodeString(rng, 8)],
    [2, () => rng.pick(['action', 'target', 'params', 'force', 'reason', 'name', 'role', 'id', 'requester', 'by'])],
  ])();
}

export function randomNumber(rng: Rng): number {
  return rng.chance(0.6) ? rng.pick(SPECIAL_NUMBERS) : (rng.next() - 0.5) * 10 ** rng.int(20);
}

/** A random JSON value of at most `depth` levels. */
export function randomJson(rng: Rng, depth: number): unknown {
  const leaf = depth <= 0 || rng.chance(0.45);
  if (leaf) {
    return rng.weighted<() => unknown>([
      [1, () => null],
      [1, () => rng.chance(0.5)],
      [3, () => randomNumber(rng)],
      [4, () => anyString(rng)],
    ])();
  }
  if (rng.chance(0.5)) return Array.from({ length: rng.int(5) }, () => randomJson(rng, depth - 1));
  const out: Record<string, unknown> = {};
  const n = rng.int(6);
  for (let i = 0; i < n; i++) {
    // defineProperty: a '__proto__' key is kept as data, as JSON.parse would keep it.
    Object.defineProperty(out, randomKey(rng), {
      value: randomJson(rng, depth - 1),
      enumerable: true,
      configurable: true,
      writable: true,
    });
  }
  return out;
}

/** A value of another JSON type than `value` (a wrong type for a field). */
export function wrongType(rng: Rng, value: unknown): unknown {
  const candidates: unknown[] = [null, true, 0, -1, 1.5, '', 'x', [], {}, [value], { value }];
  const differs = candidates.filter((c) => typeof c !== typeof value || Array.isArray(c) !== Array.isArray(value));
  return rng.pick(differs.length > 0 ? differs : candidates);
}

// --- JSON text ----------------------------------------------------------------------------------

/** A string as a header value would arrive from the wire: UTF-8 bytes read as latin1, no NUL, CR or LF. */
export function wireHeader(value: string): string {
  return Buffer.from(value, 'utf8')
    .toString('latin1')
    .replace(/[\0\r\n]/g, '');
}

/** Mutations of JSON text that make it invalid or ambiguous. */
export function mutateJsonText(rng: Rng, text: string): string {
  const at = rng.int(text.length + 1);
  return rng.weighted<() => string>([
    [3, () => text.slice(0, Math.max(0, rng.int(text.length)))], // truncated
    [2, () => text.slice(0, at) + rng.pick(['{', '}', '[', ']', ',', ':', '"', '\\', '\u0000', "'"]) + text.slice(at)],
    [1, () => text.slice(0, at) + text.slice(at + 1 + rng.int(4))],
    [2, () => text.replace(/-?\d+(\.\d+)?([eE][+-]?\d+)?/, rng.pick(NUMBER_TEXTS))],
    [2, () => `${text}${rng.pick([' garbage', ',', '}', '\u0000', '\n{}', '/* c */'])}`],
    [1, () => `${rng.pick(['\ufeff', '/*c*/', ")]}'\n", '\u0000'])}${text}`],
    [1, () => text.replace(/"/g, "'")],
    [1, () => text.replace(/":/, '" :').replace(/,"/, ' , "')], // harmless whitespace (must still parse)
  ])();
}

/** `{"k":v, ...rest}` with `k` given twice (JSON.parse keeps the last one). */
export function duplicateKey(rng: Rng, text: string, keys: string[]): string {
  if (!text.startsWith('{') || keys.length === 0) return text;
  const key = rng.pick(keys);
  const value = JSON.stringify(randomJson(rng, 1)) ?? 'null';
  return rng.chance(0.5)
    ? `{${JSON.stringify(key)}:${value},${text.slice(1)}`
    : `${text.slice(0, -1)}${text.length > 2 ? ',' : ''}${JSON.stringify(key)}:${value}}`;
}

/** Deeply nested arrays or objects. */
export function deepNesting(rng: Rng): string {
  const depth = rng.pick([64, 1000, 5000, 20_000]);
  return rng.chance(0.5) ? `${'['.repeat(depth)}${']'.repeat(depth)}` : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
}

/** Random bytes (often invalid UTF-8). */
export function randomBytes(rng: Rng, max = 256): Uint8Array {
  const out = new Uint8Array(rng.int(max + 1));
  for (let i = 0; i < out.length; i++) out[i] = rng.int(256);
  return out;
}
