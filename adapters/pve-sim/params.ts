// Parameter verification as PVE's JSONSchema does it (proxmox/pve-common src/PVE/JSONSchema.pm: validate,
// check_object, check_prop, check_type): unknown, missing and malformed parameters answer 400
// "Parameter verification failed." with an `errors` object naming each parameter, in PVE's words.
import { PveParamError } from './errors';
import { formats, type PveFormat, perlMatch } from './param-formats';

export { formats, listOf, type PveFormat, splitList } from './param-formats';

/** One parameter, in the terms of apidata's parameter definitions. */
export interface ParamSpec {
  type: 'integer' | 'number' | 'boolean' | 'string' | 'array';
  optional?: boolean | undefined;
  /** JSONSchema `minimum` / `maximum`. */
  min?: number | undefined;
  max?: number | undefined;
  minLength?: number | undefined;
  maxLength?: number | undefined;
  enum?: readonly string[] | undefined;
  /** A named PVE format (apidata's `format`), checked as PVE's verifier checks it. */
  format?: PveFormat | undefined;
  /** apidata's `pattern`: matched as Perl's `m/^$pattern$/` (not grouped, so `a|b` is `^a` or `b$`). */
  pattern?: string | undefined;
  /** apidata's `requires`: this parameter is only valid together with the named one. */
  requires?: string | undefined;
  /** type 'array': the format every element has (apidata's `items.format`). */
  items?: PveFormat | undefined;
}

export type ParamSchema = Readonly<Record<string, ParamSpec>>;
export type ParamValue = string | number | boolean;
export type Params = Record<string, ParamValue>;

// Shared parameter specs, as PVE's standard options define them.
export const P = {
  // 'pve-node': type string, format pve-node
  node: { type: 'string', format: formats.node },
  optNode: { type: 'string', format: formats.node, optional: true },
  // 'pve-vmid': type integer, format pve-vmid, minimum 100, maximum 999_999_999
  vmid: { type: 'integer', format: formats.vmid, min: 100, max: 999_999_999 },
  optVmid: { type: 'integer', format: formats.vmid, min: 100, max: 999_999_999, optional: true },
  // 'pve-snapshot-name': type string, format pve-configid, maxLength 40
  snapname: { type: 'string', format: formats.configId, maxLength: 40 },
  optSnapname: { type: 'string', format: formats.configId, maxLength: 40, optional: true },
  // 'pve-storage-id'
  optStorage: { type: 'string', format: formats.storageId, optional: true },
  optPool: { type: 'string', format: formats.poolId, optional: true },
  optBool: { type: 'boolean', optional: true },
  optStr: { type: 'string', optional: true },
  optInt0: { type: 'integer', min: 0, optional: true },
  optInt: { type: 'integer', optional: true },
} as const satisfies Record<string, ParamSpec>;

const ADDITIONAL = 'property is not defined in schema and the schema does not allow additional properties';
const MISSING = 'property is missing and it is not optional';

/**
 * add_error: a second message for the same parameter is appended with `join('\n', ...)`, which in Perl's
 * single quotes is a backslash and an "n", not a newline.
 */
function addError(errors: Record<string, string>, key: string, msg: string): void {
  errors[key] = key in errors ? `${errors[key]}\\n${msg}` : msg;
}

/**
 * Checks raw (string) parameters against a schema as check_object does (every schema property first, then
 * every given parameter for `requires` and additionalProperties => 0); returns typed values.
 * Throws PveParamError (400) naming each refused parameter.
 */
export function verifyParams(raw: Record<string, string>, schema: ParamSchema): Params {
  const errors: Record<string, string> = {};
  const out: Params = {};
  for (const [key, spec] of Object.entries(schema)) {
    const value = raw[key];
    if (value === undefined) {
      // check_prop: `if (!$schema->{optional} ...) { add_error(..., "property is missing and it is not optional");`
      if (!spec.optional) addError(errors, key, MISSING);
      continue;
    }
    const checked = checkValue(value, spec, key);
    if (typeof checked === 'object') addError(errors, key, checked.error);
    else out[key] = checked;
  }
  for (const key of Object.keys(raw)) {
    const spec = schema[key];
    if (!spec) {
      // check_object: "property is not defined in schema " . "and the schema does not allow additional properties"
      addError(errors, key, ADDITIONAL);
      continue;
    }
    // check_object: `} elsif (!defined($value->{$requires})) {`
    //   `add_error($errors, $path ? "$path.$requires" : $requires, "missing property required by '$newpath'");`
    if (spec.requires !== undefined && raw[spec.requires] === undefined) {
      addError(errors, spec.requires, `missing property required by '${key}'`);
    }
  }
  if (Object.keys(errors).length > 0) throw new PveParamError(errors);
  return out;
}

// is_integer: `return $value =~ m/^[+-]?\d+$/;`
const INTEGER = /^[+-]?\d+$/;
// is_number: `return $value =~ /^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$/;`
const NUMBER = /^[+-]?(\d+\.\d+|\d+\.|\.\d+|\d+)([eE][+-]?\d+)?$/;

/** check_type, then check_prop's checks in its order: format, pattern, maxLength, minLength, maximum, minimum, enum. */
function checkValue(value: string, spec: ParamSpec, key: string): ParamValue | { error: string } {
  // A NUL-joined value is a parameter given several times (or a JSON array): PVE's RESTHandler joins such an
  // array with ',' for a string with a `-list` format (normalize_legacy_param_formats); for anything else
  // check_type answers `"type check ('$type') failed - got $vt"` with $vt = ARRAY.
  // An array (the parameter given once or several times): each element checked against `items`, kept NUL-joined.
  if (spec.type === 'array') {
    for (const item of value.split('\0')) {
      const err = spec.items?.check(item);
      if (err !== undefined) return { error: `invalid format - ${err}` };
    }
    return value;
  }
  if (value.includes('\0')) {
    if (spec.type !== 'string' || !spec.format?.name.endsWith('-list')) {
      return { error: `type check ('${spec.type}') failed - got ARRAY` };
    }
    value = value.split('\0').join(',');
  }
  let typed: ParamValue;
  switch (spec.type) {
    case 'boolean':
      // check_type: `if ($value eq '1') { return 1; } elsif ($value eq '0') { return 1; } else {`
      //   `add_error($errors, $path, "type check ('$type') failed - got '$value'");`
      // (true/yes/on are commented out there: PVE takes booleans only as 0 and 1.)
      if (value !== '0' && value !== '1') return { error: `type check ('boolean') failed - got '${value}'` };
      typed = value === '1';
      break;
    case 'integer':
      // check_type: `if (!is_integer($value)) { add_error($errors, $path, "type check ('$type') failed - got '$value'");`
      if (!perlMatch(INTEGER, value)) return { error: `type check ('integer') failed - got '${value}'` };
      typed = Number(value);
      break;
    case 'number':
      if (!perlMatch(NUMBER, value)) return { error: `type check ('number') failed - got '${value}'` };
      typed = Number(value);
      break;
    case 'string':
      typed = value;
      break;
  }
  // check_prop: `eval { check_format($format, $value, $path); }; if ($@) { add_error($errors, $path, "invalid format - $@");`
  if (spec.format) {
    const err = spec.format.check(value, key);
    if (err !== undefined) return { error: `invalid format - ${err}` };
  }
  // `if ($value !~ m/^$pattern$/) { add_error($errors, $path, "value does not match the regex pattern");`
  if (spec.pattern !== undefined && !perlMatch(new RegExp(`^${spec.pattern}$`), value)) {
    return { error: 'value does not match the regex pattern' };
  }
  // Perl's length() counts characters (the request is decoded from UTF-8), not UTF-16 units.
  const length = [...value].length;
  // `if (length($value) > $max) { add_error($errors, $path, "value may only be $max characters long");`
  if (spec.maxLength !== undefined && length > spec.maxLength) {
    return { error: `value may only be ${spec.maxLength} characters long` };
  }
  // `if (length($value) < $min) { add_error($errors, $path, "value must be at least $min characters long");`
  if (spec.minLength !== undefined && length < spec.minLength) {
    return { error: `value must be at least ${spec.minLength} characters long` };
  }
  // `if (is_number($value)) {` maximum first: "value must have a maximum value of $max", then
  //   minimum: "value must have a minimum value of $min"
  if (perlMatch(NUMBER, value)) {
    const n = Number(value);
    if (spec.max !== undefined && n > spec.max) return { error: `value must have a maximum value of ${spec.max}` };
    if (spec.min !== undefined && n < spec.min) return { error: `value must have a minimum value of ${spec.min}` };
  }
  // "value '$value' does not have a value in the enumeration '" . join(", ", @$ea) . "'"
  if (spec.enum && !spec.enum.includes(value)) {
    return { error: `value '${value}' does not have a value in the enumeration '${spec.enum.join(', ')}'` };
  }
  return typed;
}

export const int = (p: Params, k: string): number | undefined => (typeof p[k] === 'number' ? p[k] : undefined);
export const bool = (p: Params, k: string): boolean | undefined => (typeof p[k] === 'boolean' ? p[k] : undefined);
export const str = (p: Params, k: string): string | undefined => (typeof p[k] === 'string' ? p[k] : undefined);
