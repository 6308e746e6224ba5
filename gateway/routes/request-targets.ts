// What a request is about, as POST /v1/requests takes it: one guest or a selector (guest actions), a cluster
// (deploy), a node (drain, undrain). Only the shape is checked here: what a selector means, and whether the guest or
// node exists, is the core gate's answer (a denial with the reason).
import { z } from 'zod';
import { MAX_SELECTOR_LENGTH } from '../../protocol';
import { CLUSTER_PATTERN } from '../http-schemas';

const CLUSTER_SOURCE = CLUSTER_PATTERN.source.slice(1, -1);
const VM_TARGET = new RegExp(`^${CLUSTER_SOURCE}/[0-9]{1,9}$`);

const ClusterNameSchema = z
  .string({ error: 'expected a cluster name' })
  .regex(CLUSTER_PATTERN, 'expected a cluster name');
const VmidSchema = z
  .number({ error: 'expected a vmid (a whole number)' })
  .int('expected a vmid (a whole number)')
  .min(0)
  .max(999_999_999);
/** A node name (a host name): letters, digits, '-' and '.'. */
const NodeNameSchema = z
  .string({ error: 'expected a node name' })
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9][A-Za-z0-9.-]*$/, 'expected a node name');

/** `@tag:web,-105`: checked for shape only (no whitespace or control characters); the core's gate reads it. */
export const SelectorSchema = z
  .string()
  .min(1)
  .max(MAX_SELECTOR_LENGTH)
  .regex(/^[\x21-\x7e]+$/, 'expected a selector such as @tag:web,-105 (no spaces)')
  .describe(
    'Instead of vmid: `@tag:<tag>`, `@pool:<pool>`, `@node:<node>` or `@all`, with exclusions `-<vmid>`, ' +
      'comma-separated (`@tag:web,-105`). The core expands it when it decides; each member runs as its own request.',
  );

/**
 * A target union's error. Zod answers with the union's own error when every form failed on a type (`{"cluster":
 * "lab", "vmid": "x"}` fails the object form on vmid's type and the string form on its own); for an object, what is
 * wrong in it is named instead (the object form's first issue, with its path), `required` when it was left out,
 * and `expected` otherwise.
 */
function targetError(expected: string) {
  return (issue: { code?: string; input?: unknown; errors?: { path: PropertyKey[]; message: string }[][] }) => {
    if (issue.input === undefined) return 'required';
    const isObject = typeof issue.input === 'object' && issue.input !== null && !Array.isArray(issue.input);
    const first = issue.code === 'invalid_union' && isObject ? issue.errors?.[0]?.[0] : undefined;
    if (!first) return expected;
    return first.path.length > 0 ? `${first.path.map(String).join('.')}: ${first.message}` : first.message;
  };
}

/** `lab/114` → {cluster: 'lab', vmid: 114}; `lab` → {cluster: 'lab'} (already checked by the schemas). */
export function parseTarget(target: string): { cluster: string; vmid?: number } {
  const slash = target.indexOf('/');
  if (slash < 0) return { cluster: target };
  return { cluster: target.slice(0, slash), vmid: Number(target.slice(slash + 1)) };
}

// The string 'lab/101' ('lab') of earlier clients is still accepted on input, and read as the object.
const legacyVm = z
  .string()
  .regex(VM_TARGET, "expected '<cluster>/<vmid>'")
  .transform((t) => parseTarget(t) as { cluster: string; vmid: number })
  .meta({ deprecated: true, description: "Deprecated: '<cluster>/<vmid>', read as the object" });

/** One guest, as requests made before selectors name it (kept for the request view's single-guest form). */
export const VmTargetSchema = z
  .union([z.strictObject({ cluster: ClusterNameSchema, vmid: VmidSchema }), legacyVm], {
    error: targetError('expected {"cluster": "<cluster>", "vmid": <vmid>}'),
  })
  .describe('The VM: {"cluster": "lab", "vmid": 101}');

/** One guest, or a selector: exactly one of vmid and selector. */
export const GuestTargetSchema = z
  .union(
    [
      z
        .strictObject({ cluster: ClusterNameSchema, vmid: VmidSchema.optional(), selector: SelectorSchema.optional() })
        .superRefine((t, ctx) => {
          if (t.vmid !== undefined && t.selector !== undefined) {
            ctx.addIssue({ code: 'custom', path: ['selector'], message: 'give vmid or selector, not both' });
          } else if (t.vmid === undefined && t.selector === undefined) {
            ctx.addIssue({ code: 'custom', path: ['vmid'], message: 'expected a vmid or a selector' });
          }
        }),
      legacyVm,
    ],
    {
      error: targetError(
        'expected {"cluster": "<cluster>", "vmid": <vmid>} or {"cluster": "<cluster>", "selector": "@..."}',
      ),
    },
  )
  .describe('One guest {"cluster": "lab", "vmid": 101}, or a selector {"cluster": "lab", "selector": "@tag:web,-105"}');

export const ClusterTargetSchema = z
  .union(
    [
      z.strictObject({ cluster: ClusterNameSchema }),
      z
        .string()
        .regex(CLUSTER_PATTERN)
        .transform((cluster) => ({ cluster }))
        .meta({ deprecated: true, description: "Deprecated: '<cluster>', read as the object" }),
    ],
    { error: targetError('expected {"cluster": "<cluster>"} (deploy targets a cluster)') },
  )
  .describe('The cluster to deploy into: {"cluster": "lab"}');

/** The node a drain or undrain is about. */
export const NodeTargetSchema = z
  .strictObject(
    { cluster: ClusterNameSchema, node: NodeNameSchema },
    { error: 'expected {"cluster": "<cluster>", "node": "<node>"}' },
  )
  .describe('The node: {"cluster": "lab", "node": "pve2"}');
