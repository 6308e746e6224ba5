// A request's final decision and who took it, read from its stored record: the gate's decision, unless a person
// approved or denied the request while it awaited approval — then theirs, with the reason they gave (the note of
// that history entry). Read from the status history, so records written before the decision followed the person
// (their `decision` still `awaiting_approval`) show the final decision too.
import type { Decision } from '../machines/types';
import type { DecidedBy } from '../protocol';
import type { RequestRecord } from '../state';

export interface FinalDecision {
  decision?: Decision | undefined;
  decidedBy?: DecidedBy | undefined;
}

/** Where the gate's decision is recorded: the status the request rested in once the gate had spoken. */
const GATE_DECIDED: ReadonlySet<string> = new Set(['denied', 'awaiting_approval', 'approved', 'nothing_to_do']);

/** The final decision of `record` and who took it; `nameOf` names a token id (undefined when unknown). */
export function finalDecision(
  record: Pick<RequestRecord, 'decision' | 'history'>,
  nameOf: (id: string) => string | undefined = () => undefined,
): FinalDecision {
  const { history } = record;
  const waited = history.findIndex((h) => h.status === 'awaiting_approval');
  // The change that ended the wait: a person's approval (approved, or failed by its re-check) or denial.
  const next = waited >= 0 ? history[waited + 1] : undefined;
  if (next?.by !== undefined && (next.status === 'approved' || next.status === 'denied' || next.status === 'failed')) {
    const name = nameOf(next.by);
    return {
      decision: next.status === 'denied' ? 'denied' : 'approved',
      decidedBy: {
        kind: 'person',
        id: next.by,
        ...(name !== undefined ? { name } : {}),
        at: next.at,
        ...(next.note !== undefined ? { reason: next.note } : {}),
      },
    };
  }
  if (record.decision === undefined) return {};
  const gated = history.find((h) => GATE_DECIDED.has(h.status));
  // The gate's decision stands (also for a request cancelled or expired while it awaited approval).
  return { decision: record.decision, decidedBy: gated ? { kind: 'gate', at: gated.at } : undefined };
}
