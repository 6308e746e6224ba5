// The wire contract of the actor inspector: the core's actors by kind with their current state, and one actor's
// machine (its XState definition, as machine.toJSON() gives it), its state and the events it received.
import { z } from 'zod';

export const ACTOR_KINDS = ['overseer', 'loop', 'vm', 'host', 'request', 'incident', 'lab'] as const;
export const ActorKindSchema = z.enum(ACTOR_KINDS);

export const ActorListPayloadSchema = z.strictObject({
  kind: ActorKindSchema.optional(),
  /** Only ids starting with this (`vm:lab/`). */
  prefix: z.string().max(200).optional(),
  limit: z.number().int().min(1).max(1000).optional(),
  offset: z.number().int().min(0).optional(),
});

export const ActorSummarySchema = z.object({
  id: z.string(),
  kind: ActorKindSchema,
  /** The state's name (`running`, `degraded.overloaded`, parallel regions joined with ','). */
  state: z.string(),
});

export const ActorListReplySchema = z.object({ items: z.array(ActorSummarySchema), total: z.number() });

export const ActorInspectPayloadSchema = z.strictObject({ id: z.string().min(1).max(300) });

export const ActorInspectReplySchema = z
  .object({
    id: z.string(),
    kind: ActorKindSchema,
    /** The snapshot's state value: a name, or an object for nested and parallel states. */
    value: z.unknown(),
    state: z.string(),
    /** active, done, error or stopped. */
    status: z.string(),
    /** The machine's definition (XState v5 machine.toJSON()): states, transitions, guards, invocations. */
    machine: z.unknown(),
    /** The newest events it received, oldest first. */
    events: z.array(z.object({ type: z.string(), at: z.number() })),
  })
  .nullable();

export type ActorKind = z.infer<typeof ActorKindSchema>;
export type ActorListPayload = z.infer<typeof ActorListPayloadSchema>;
export type ActorSummary = z.infer<typeof ActorSummarySchema>;
export type ActorInspectReply = z.infer<typeof ActorInspectReplySchema>;
