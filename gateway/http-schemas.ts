// Schemas shared by several resources: path parameters, the error body. Resource-specific ones live with
// their routes. The OpenAPI document is generated from these same schemas.
import { z } from 'zod';
import { MAX_ID_LENGTH } from '../protocol';

/** A cluster name (as the gate's schema check accepts it). */
export const CLUSTER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
/** A VMID in a path or a target string. */
export const VMID_PATTERN = /^[0-9]{1,9}$/;
/** Ids of requests and tokens: they become NATS subject tokens, so no '.', wildcards, whitespace or controls. */
export const ID_PATTERN = /^[A-Za-z0-9_:-]+$/;

export const ClusterSchema = z.string().regex(CLUSTER_PATTERN, 'expected a cluster name');
export const VmidStringSchema = z.string().regex(VMID_PATTERN, 'expected a VMID (digits)');
export const IdSchema = z
  .string()
  .min(1)
  .max(MAX_ID_LENGTH)
  .regex(ID_PATTERN, "expected an id of letters, digits, '_', ':' or '-'");

export const IdParamsSchema = z.strictObject({ id: IdSchema });
export const VmParamsSchema = z.strictObject({ cluster: ClusterSchema, vmid: VmidStringSchema });

/**
 * A whole number from a query string, from `min` to `max`: `abc`, `1.5`, `-1` or a number past the range is answered
 * with one message saying what is expected (not zod's "received NaN" or the safe-integer bound).
 */
export function queryInt(min: number, max: number) {
  const error = `expected a whole number from ${min} to ${max}`;
  return z.coerce.number({ error }).int({ error, abort: true }).min(min, { error, abort: true }).max(max, { error });
}

/** Limit of list queries, from a query string. */
export const LimitSchema = queryInt(1, 1000);
/** Items of a list skipped before the page starts (the previous page's offset plus its limit). */
export const OffsetSchema = queryInt(0, 10_000_000).describe('Items skipped before the page starts (default 0)');

export const NoQuerySchema = z.strictObject({});

export const ErrorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
    in: z.enum(['body', 'query', 'path', 'header']).optional(),
    issues: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  }),
});
