// Parameter verification like PVE's JSONSchema: unknown, missing and malformed parameters answer
// 400 "Parameter verification failed." with one message per parameter.
import { PveParamError } from './errors';

export interface ParamSpec {
  type: 'integer' | 'boolean' | 'string';
  optional?: boolean | undefined;
  min?: number | undefined;
  max?: number | undefined;
  enum?: readonly string[] | undefined;
  /** A format check: the regular expression and the text PVE gives when it fails. */
  format?: { re: RegExp; message: string } | undefined;
}

export type ParamSchema = Readonly<Record<string, ParamSpec>>;
export type ParamValue = string | number | boolean;
export type Params = Record<string, ParamValue>;

const BOOL_TRUE = /^(1|true|yes|on)$/i;
const BOOL_FALSE = /^(0|false|no|off)$/i;

export const formats = {
  node: { re: /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/, message: 'value does not look like a valid node name' },
  dnsName: {
    re: /^(?=.{1,255}$)[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/,
    message: 'value does not look like a valid DNS name',
  },
  configId: { re: /^[a-z][a-z0-9_]+$/i, message: 'invalid configuration ID' },
  storageId: { re: /^[a-z][a-z0-9\-_.]*[a-z0-9]$/i, message: 'storage ID contains illegal characters' },
} as const;

// Shared parameter specs.
export const P = {
  node: { type: 'string', format: formats.node },
  vmid: { type: 'integer', min: 100, max: 999_999_999 },
  optVmid: { type: 'integer', min: 100, max: 999_999_999, optional: true },
  optBool: { type: 'boolean', optional: true },
  optStr: { type: 'string', optional: true },
  optInt0: { type: 'integer', min: 0, optional: true },
  optInt: { type: 'integer', optional: true },
} as const satisfies Record<string, ParamSpec>;

/** Checks raw (string) parameters against a schema; returns typed values. Throws PveParamError (400). */
export function verifyParams(raw: Record<string, string>, schema: ParamSchema): Params {
  const errors: Record<string, string> = {};
  const out: Params = {};
  for (const [key, value] of Object.entries(raw)) {
    const spec = schema[key];
    if (!spec) {
      errors[key] = 'property is not defined in schema and the schema does not allow additional properties';
      continue;
    }
    const checked = checkValue(value, spec);
    if (typeof checked === 'object') errors[key] = checked.error;
    else out[key] = checked;
  }
  for (const [key, spec] of Object.entries(schema)) {
    if (!spec.optional && !(key in raw)) errors[key] = 'property is missing and it is not optional';
  }
  if (Object.keys(errors).length > 0) throw new PveParamError(errors);
  return out;
}

function checkValue(value: string, spec: ParamSpec): ParamValue | { error: string } {
  switch (spec.type) {
    case 'boolean':
      if (BOOL_TRUE.test(value)) return true;
      if (BOOL_FALSE.test(value)) return false;
      return { error: `type check ('boolean') failed - got '${value}'` };
    case 'integer': {
      if (!/^-?\d+$/.test(value)) return { error: `type check ('integer') failed - got '${value}'` };
      const n = Number(value);
      if (spec.min !== undefined && n < spec.min) return { error: `value must have a minimum value of ${spec.min}` };
      if (spec.max !== undefined && n > spec.max) return { error: `value must have a maximum value of ${spec.max}` };
      return n;
    }
    case 'string':
      if (spec.enum && !spec.enum.includes(value)) {
        return { error: `value '${value}' does not have a value in the enumeration '${spec.enum.join(', ')}'` };
      }
      if (spec.format && !spec.format.re.test(value)) {
        const detail = spec.format === formats.configId ? `${spec.format.message} '${value}'` : spec.format.message;
        return { error: `invalid format - ${detail}` };
      }
      return value;
  }
}

export const int = (p: Params, k: string): number | undefined => (typeof p[k] === 'number' ? p[k] : undefined);
export const bool = (p: Params, k: string): boolean | undefined => (typeof p[k] === 'boolean' ? p[k] : undefined);
export const str = (p: Params, k: string): string | undefined => (typeof p[k] === 'string' ? p[k] : undefined);
