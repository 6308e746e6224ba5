// What a submission is, and what the Overseer answers to it and to an approval, denial or cancellation.
import type { RequestContext } from '../machines/request.machine';
import type { Action, BulkMember, Decision, Requester, RequestStatus, RequestTarget } from '../machines/types';

export interface Submission {
  action: Action;
  target: RequestTarget;
  params?: Record<string, unknown> | undefined;
  force?: boolean | undefined;
  requester: Requester;
  idempotencyKey?: string | undefined;
  origin?: 'human' | 'overseer' | undefined;
  /** Decide only: nothing is recorded, held or run. */
  dryRun?: boolean | undefined;
}

export interface SubmitResult {
  requestId: string;
  decision: Decision;
  reasons: string[];
  checks: RequestContext['checks'];
  status: RequestStatus;
  /** True when an Idempotency-Key matched an earlier submission and this is its answer. */
  replayed: boolean;
  /** A bulk request's members as decided. */
  members?: BulkMember[] | undefined;
  /** A dry run: nothing was recorded or run (requestId is empty). */
  dryRun?: boolean | undefined;
}

export type CommandResult =
  | { ok: true; status: RequestStatus }
  | { ok: false; code: 'not_found' | 'refused' | 'conflict'; reason: string };
