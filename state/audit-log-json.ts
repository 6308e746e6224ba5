// The audit data column's canonical JSON, written in one pass. It gives exactly the text of canonicalJson (state/json.ts:
// a JSON round trip, then keys sorted at every depth), which stays the definition: plain data (objects with
// Object.prototype or no prototype, arrays, strings, finite numbers, booleans, null) is serialised directly, and
// anything else (a toJSON method, a Date, a Map, a boxed primitive, a BigInt, a non-finite number in an odd place, an
// index-like key whose place the round trip decides, a deep or circular structure) takes the round trip, which also
// throws its SerializationError. A VM issue's data is plain, so the one pass serves the sync's audit rows.
import { canonicalJson } from './json';

/** Deeper than this, the round trip decides (and names a circular structure). */
const MAX_DEPTH = 32;
/** A key the engine enumerates as an array index (first, in numeric order) whatever the order it was set in. */
const INDEX_KEY = /^(?:0|[1-9]\d{0,9})$/;

/** Marks a value the one pass does not take; the caller falls back to canonicalJson. */
const NOT_PLAIN = Symbol('not plain');

/** Canonical JSON of an audit entry's data, as stored in the data column (the same text as canonicalJson). */
export function canonicalDataJson(data: unknown, what = 'audit data'): string {
  if (data === undefined) return 'null';
  const text = plain(data, 0);
  return text === NOT_PLAIN || text === undefined ? canonicalJson(data, what) : text;
}

/** The value's text; undefined where JSON.stringify leaves a member out; NOT_PLAIN when the round trip must decide. */
function plain(value: unknown, depth: number): string | undefined | typeof NOT_PLAIN {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'number':
      return Number.isFinite(value) ? JSON.stringify(value) : 'null';
    case 'boolean':
      return value ? 'true' : 'false';
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    case 'object':
      break;
    default:
      return NOT_PLAIN;
  }
  if (value === null) return 'null';
  if (depth >= MAX_DEPTH) return NOT_PLAIN;
  if (Array.isArray(value)) {
    if (Object.getPrototypeOf(value) !== Array.prototype) return NOT_PLAIN;
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      const item = plain(value[i], depth + 1);
      if (item === NOT_PLAIN) return NOT_PLAIN;
      out += `${i > 0 ? ',' : ''}${item === undefined ? 'null' : item}`;
    }
    return `${out}]`;
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
  const record = value as Record<string, unknown>;
  if (typeof record.toJSON === 'function') return NOT_PLAIN;
  const keys = Object.keys(record).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    if (INDEX_KEY.test(key)) return NOT_PLAIN;
    const item = plain(record[key], depth + 1);
    if (item === NOT_PLAIN) return NOT_PLAIN;
    if (item === undefined) continue;
    out += `${first ? '' : ','}${JSON.stringify(key)}:${item}`;
    first = false;
  }
  return `${out}}`;
}
