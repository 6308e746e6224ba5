// What a submission is answered with (actors/request-service.ts): the request spec made of it, the answer read from
// a request once the gate has spoken, and the gate's answer to a dry run.
import type { Clock } from '../adapters/clock';
import type { RequestContext } from '../machines/request.machine';
import type { RequestSpec, RequestStatus } from '../machines/types';
import type { GateService } from './gate-service';
import type { Submission, SubmitResult } from './submission';

/** The request a submission asks for, with id `id`, submitted at `now`. */
export function requestSpecOf(submission: Submission, id: string, now: number): RequestSpec {
  return {
    id,
    action: submission.action,
    target: submission.target,
    params: submission.params ?? {},
    force: submission.force ?? false,
    requester: submission.requester,
    submittedAt: now,
    origin: submission.origin ?? 'human',
  };
}

/** The answer to a submission, read from its request once the gate has spoken. */
export function answerOf(
  requestId: string,
  snapshot: { value: unknown; context: RequestContext },
  replayed: boolean,
): SubmitResult {
  const { context } = snapshot;
  return {
    requestId,
    decision: context.decision ?? 'denied',
    reasons: context.reasons,
    checks: context.checks,
    status: String(snapshot.value) as RequestStatus,
    replayed,
    ...(context.members ? { members: context.members } : {}),
  };
}

/**
 * The gate's answer to a submission without acting on it: nothing is stored, held or run, and no request id is
 * given. The same checks run on the same facts as for a real submission.
 */
export async function dryRunAnswer(submission: Submission, gate: GateService, clock: Clock): Promise<SubmitResult> {
  const spec = requestSpecOf(submission, 'dry-run', clock.now());
  const schema = gate.validate(spec);
  const result =
    schema.outcome === 'pass'
      ? await gate.decide(spec, { hold: false })
      : { decision: 'denied' as const, checks: [schema], reasons: [schema.reason] };
  return {
    requestId: '',
    decision: result.decision,
    reasons: result.reasons,
    checks: result.checks,
    status: result.decision,
    replayed: false,
    ...('members' in result && result.members ? { members: result.members } : {}),
    dryRun: true,
  };
}
