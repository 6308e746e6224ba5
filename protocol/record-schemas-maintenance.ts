// The maintenance windows and silences of the record (DESIGN §14, issue 15): the rows as the store reads them
// (state/maintenance-repo.ts MaintenanceRecord, SilenceRecord), every field checked, so that a core taking over a
// cluster knows what an operator told Overseer to leave alone, and until when. record-schemas.ts wraps them in their
// entities (`<cluster>.maintenance.<id>`, `<cluster>.silence.<id>`).
import { z } from 'zod';
import { GuestSchema } from './incident-schemas';
import { MaintenanceScopeSchema, SCOPE_TARGETS, SilenceableKindSchema } from './maintenance-schemas';

const time = () => z.number().int().nonnegative();
const text = () => z.string().min(1);

/** Fields every window and silence row has. */
const entryFields = {
  id: text(),
  /** epoch ms */
  from: time(),
  /** epoch ms, not included: after `from` */
  until: time(),
  reason: text(),
  /** Who set it (a principal id) and its name. */
  by: text(),
  byName: z.string().optional(),
  createdAt: time(),
  /** Set when a person ended it before `until`, with who. */
  endedAt: time().optional(),
  endedBy: text().optional(),
};

function checkEntry(
  value: { from: number; until: number; endedAt?: number | undefined; endedBy?: string | undefined },
  ctx: z.RefinementCtx,
): void {
  if (value.until <= value.from) {
    ctx.addIssue({ code: 'custom', path: ['until'], message: 'the end must come after the start (from)' });
  }
  if ((value.endedAt === undefined) !== (value.endedBy === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['endedBy'], message: 'endedAt and endedBy go together' });
  }
}

/** A maintenance_windows row. */
export const RecordMaintenanceSchema = z
  .object({
    ...entryFields,
    scope: MaintenanceScopeSchema,
    /** guest `<cluster>/<vmid>`, node `<cluster>/<node>`, tag `<tag>` */
    target: text(),
    /** The drain request that set this node window. */
    request: text().optional(),
  })
  .superRefine((value, ctx) => {
    checkEntry(value, ctx);
    const { pattern, shape } = SCOPE_TARGETS[value.scope];
    if (!pattern.test(value.target)) {
      ctx.addIssue({ code: 'custom', path: ['target'], message: `a ${value.scope} is ${shape}` });
    }
  });

/** A silences row. */
export const RecordSilenceSchema = z
  .object({ ...entryFields, kind: SilenceableKindSchema, guest: GuestSchema })
  .superRefine(checkEntry);

export type RecordMaintenance = z.infer<typeof RecordMaintenanceSchema>;
export type RecordSilence = z.infer<typeof RecordSilenceSchema>;

/**
 * The Proxmox cluster a window's target names (guest and node scopes: `<cluster>/...`); undefined for a tag, which
 * any cluster's guests may carry (such a window is kept under the cluster of the core that set it).
 */
export function windowCluster(window: { scope: string; target: string }): string | undefined {
  return window.scope === 'tag' ? undefined : window.target.split('/')[0] || undefined;
}

/** The cluster of a silence's guest (`<cluster>/<vmid>`). */
export function silenceCluster(silence: { guest: string }): string | undefined {
  return silence.guest.split('/')[0] || undefined;
}

/** An entity's cluster must be the one its window's target or its silence's guest names. */
export function checkEntryCluster(
  value: { cluster: string; window?: { scope: string; target: string }; silence?: { guest: string } },
  ctx: z.RefinementCtx,
): void {
  const [field, named] = value.window
    ? (['window', windowCluster(value.window)] as const)
    : (['silence', value.silence && silenceCluster(value.silence)] as const);
  if (named !== undefined && named !== value.cluster) {
    ctx.addIssue({
      code: 'custom',
      path: [field, field === 'window' ? 'target' : 'guest'],
      message: `names cluster '${named}', not the entity's cluster '${value.cluster}'`,
    });
  }
}
