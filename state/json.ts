// JSON in and out of TEXT columns, and the canonical form the audit chain hashes.
import { CorruptRecordError, SerializationError } from './errors';

/** JSON text of `value`; throws SerializationError for values JSON cannot carry (undefined, circular, BigInt). */
export function toJson(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new SerializationError(`${what} cannot be stored as JSON: ${(cause as Error).message}`, what, { cause });
  }
  if (text === undefined) throw new SerializationError(`${what} cannot be stored as JSON: it is ${typeof value}`, what);
  return text;
}

/** Parses a column's JSON text; throws CorruptRecordError naming the row. */
export function fromJson<T>(text: string, table: string, key: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new CorruptRecordError(`${table} ${key}: stored JSON is invalid`, table, key, { cause });
  }
}

/**
 * Canonical JSON: object keys sorted at every depth, no whitespace, and the value first normalised by a JSON
 * round trip (toJSON applied, undefined members dropped, non-finite numbers become null). Equal data gives equal
 * text whatever the key order it was built with.
 */
export function canonicalJson(value: unknown, what = 'value'): string {
  const normalised: unknown = JSON.parse(toJson(value === undefined ? null : value, what));
  return JSON.stringify(sortKeys(normalised));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    // A null prototype, so a '__proto__' key is kept as data rather than setting the prototype.
    const out: Record<string, unknown> = Object.create(null);
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
    return out;
  }
  return value;
}
