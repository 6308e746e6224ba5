// What a submission is, and what the Overseer answers to it and to an approval, denial or cancellation.
import type { RequestContext } from '../machines/request.machine';
import type { Action, Decision, Requester, RequestStatus } from '../machines/types';

export interface Submission {
  action: Action;
  target: { cluster: string; vmid?: number | undefined };
  params?: Record<string, unknown> | undefined;
  force?: boolean | undefined;
  requester: Requester;
  idempotencyKey?: string | undefined;
  origin?: 'human' | 'overseer' | undefined;
}

export interface SubmitResult {
  requestId: string;
  decision: Decision;
  reasons: string[];
  checks: RequestContext['checks'];
  status: RequestStatus;
  /** True when an Idempotency-Key matched an earlier submission and this is its answer. */
  replayed: boolean;
}

export type CommandResult =
  | { ok: true; status: RequestStatus }
  | { ok: false; code: 'not_found' | 'refused' | 'conflict'; reason: string };
