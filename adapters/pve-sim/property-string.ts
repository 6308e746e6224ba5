// PVE property strings (`virtio=BC:24:11:..,bridge=vmbr0,tag=10`, `ip=10.0.0.5/24,gw=10.0.0.1`), parsed and printed
// as pve-common's JSONSchema.pm parse_property_string / print_property_string do, with their error texts.
import { PveParamError } from './errors';
import type { PveFormat } from './param-formats';
import { type ParamSchema, type ParamSpec, type ParamValue, verifyParams } from './params';

/** One key of a property string format. */
export interface PropertySpec extends ParamSpec {
  /** The key a value without `key=` is for. */
  defaultKey?: boolean | undefined;
  /** This key is another's name: `virtio=<mac>` sets `macaddr` (alias) and `model` (keyAlias) to `virtio`. */
  alias?: string | undefined;
  keyAlias?: string | undefined;
}

export type PropertyFormat = Readonly<Record<string, PropertySpec>>;

/** A property string PVE refuses: `message` is what its verifier dies with (ending in "\n"). */
export class PropertyStringError extends Error {
  override name = 'PropertyStringError';
}

const TRUE = /^(?:1|on|yes|true)$/i;
const FALSE = /^(?:0|off|no|false)$/i;

/**
 * parse_property_string: the keys and values of `data`, checked against `format` (check_object). `path` names the
 * parameter in error texts (`net0.tag: ...`). Throws PropertyStringError with PVE's text.
 */
export function parseProperty(format: PropertyFormat, data: string, path: string): Record<string, ParamValue> {
  const raw: Record<string, string> = {};
  let defaultKey: string | undefined;
  for (const part of data.split(',')) {
    if (/^\s*$/.test(part)) continue;
    const kv = /^([^=]+)=([\s\S]+)$/.exec(part);
    if (kv) {
      let key = kv[1]!;
      let value = kv[2]!;
      if (key in raw) throw new PropertyStringError(`duplicate key in comma-separated list property: ${key}\n`);
      let spec = format[key];
      if (spec?.alias) {
        if (spec.keyAlias) {
          if (spec.keyAlias in raw) throw new PropertyStringError(`key alias '${spec.keyAlias}' is already defined\n`);
          raw[spec.keyAlias] = key;
        }
        key = spec.alias;
        spec = format[key];
        if (key in raw) throw new PropertyStringError(`key '${key}' is already defined (via alias)\n`);
      }
      if (!spec) throw new PropertyStringError(`invalid key in comma-separated list property: ${key}\n`);
      if (spec.type === 'boolean') value = TRUE.test(value) ? '1' : FALSE.test(value) ? '0' : value;
      raw[key] = value;
    } else if (!part.includes('=')) {
      if (defaultKey) throw new PropertyStringError(`duplicate key in comma-separated list property: ${defaultKey}\n`);
      defaultKey = Object.keys(format).find((k) => format[k]!.defaultKey);
      if (!defaultKey) throw new PropertyStringError('value without key, but schema does not define a default key\n');
      if (raw[defaultKey])
        throw new PropertyStringError(`duplicate key in comma-separated list property: ${defaultKey}\n`);
      const spec = format[defaultKey]!;
      raw[defaultKey] = spec.type === 'boolean' ? (TRUE.test(part) ? '1' : FALSE.test(part) ? '0' : part) : part;
    } else {
      throw new PropertyStringError('missing key in comma-separated list property\n');
    }
  }
  const schema: Record<string, ParamSpec> = {};
  for (const [k, spec] of Object.entries(format)) if (!spec.alias) schema[k] = spec;
  try {
    return verifyParams(raw, schema as ParamSchema);
  } catch (err) {
    if (!(err instanceof PveParamError) || !err.errors) throw err;
    // raise "format error\n", errors => {...}: stringified, each error follows as "<path>.<key>: <text>\n".
    const lines = Object.entries(err.errors)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([k, m]) => `${path}.${k}: ${m.replace(/required by '([^']+)'/, `required by '${path}.$1'`)}\n`);
    throw new PropertyStringError(`format error\n${lines.join('')}`);
  }
}

/** A named PVE format that is a property string (e.g. `pve-qm-ipconfig`). */
export function propertyFormat(name: string, format: PropertyFormat): PveFormat {
  return {
    name,
    check(value, path = '') {
      try {
        parseProperty(format, value, path);
        return undefined;
      } catch (err) {
        if (err instanceof PropertyStringError) return err.message;
        throw err;
      }
    },
  };
}

/**
 * print_property_string: the default key first (combined with its keyAlias partner: `virtio=<mac>`), then the
 * required keys, then the rest, each group sorted.
 */
export function printProperty(format: PropertyFormat, data: Record<string, ParamValue | undefined>): string {
  const parts: string[] = [];
  const done = new Set<string>();
  const defaultKey = Object.keys(format).find((k) => format[k]!.defaultKey);
  const combine = new Map<string, string>();
  for (const spec of Object.values(format)) if (spec.alias && spec.keyAlias) combine.set(spec.keyAlias, spec.alias);
  const value = (v: ParamValue): string => (typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  const add = (key: string, isDefault: boolean) => {
    if (done.has(key)) return;
    done.add(key);
    const v = data[key];
    if (v === undefined) return;
    const partner = combine.get(key);
    if (partner !== undefined && data[partner] !== undefined) {
      parts.push(`${value(v)}=${value(data[partner]!)}`);
      done.add(partner);
      return;
    }
    parts.push(isDefault ? value(v) : `${key}=${value(v)}`);
  };
  if (defaultKey) add(defaultKey, true);
  const keys = Object.keys(data).sort();
  for (const k of keys) if (format[k] && !format[k]!.optional && !format[k]!.defaultKey) add(k, false);
  for (const k of keys) add(k, false);
  return parts.join(',');
}
