// The core's answers to the audit reads (admin only; the `audit` query of protocol/queries.ts): a page of rows and
// the chain's verification against the last checkpoint kept outside SQLite.
import type {
  AuditListPayload,
  AuditListReply,
  AuditProblemKindView,
  AuditQueryPayload,
  AuditQueryReply,
  AuditVerificationView,
} from '../protocol/audit-schemas';
import { DEFAULT_AUDIT_PAGE, MAX_AUDIT_PAGE } from '../protocol/audit-schemas';
import type { AuditProblemKind, AuditVerification, StateStore } from '../state';
import { type AuditCheckpointSink, verifyAudit } from './audit-checkpoint';

// The wire's problem kinds and the state layer's are the same list.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : never) : never;
const kindsAgree: Same<AuditProblemKind, AuditProblemKindView> = true;
void kindsAgree;

export interface AuditQueryDeps {
  store: StateStore;
  /** Where the checkpoints are; without it the tail is not compared with one (the answer's `note` says so). */
  checkpoints?: AuditCheckpointSink | undefined;
}

/** A page of rows, oldest first, after `afterSeq`; `next` is the `afterSeq` of the next page, null on the last. */
export function listAudit(store: StateStore, payload: AuditListPayload = {}): AuditListReply {
  const limit = Math.min(payload.limit ?? DEFAULT_AUDIT_PAGE, MAX_AUDIT_PAGE);
  const rows = store.audit.list({
    sinceSeq: payload.afterSeq,
    kind: payload.kind,
    actor: payload.actor,
    limit: limit + 1,
  });
  const items = rows.slice(0, limit).map((r) => ({
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    kind: r.kind,
    data: r.data,
    prevHash: r.prevHash,
    hash: r.hash,
  }));
  return { items, next: rows.length > limit ? (items.at(-1)?.seq ?? null) : null };
}

/** The whole chain verified now, against the last checkpoint. */
export function verifyAuditNow({ store, checkpoints }: AuditQueryDeps): Promise<AuditVerification> {
  return verifyAudit(store, checkpoints);
}

/** The `audit` query: a page of rows and the verification. */
export async function answerAuditQuery(deps: AuditQueryDeps, payload: AuditQueryPayload): Promise<AuditQueryReply> {
  const page = listAudit(deps.store, payload);
  const verification: AuditVerificationView = await verifyAuditNow(deps);
  return { ...page, verification };
}
