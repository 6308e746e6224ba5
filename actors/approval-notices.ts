// What waits for a person is told through the notifier's channels: a request or a lab awaiting a second person's
// approval (someone has to act, or it runs out), and one that ran out with no one's word. Told once, on the change
// itself: what a restart restores is not told again.
import type { LabContext } from '../machines/lab.machine';
import type { RequestContext } from '../machines/request.machine';
import type { Requester, RequestSpec, RequestStatus } from '../machines/types';
import type { OverseerDeps } from './overseer-deps';

/** Something that awaits approval, as a notice names it. */
export interface AwaitingApproval {
  /** `req:<id>`, `lab:<cluster>/<name>`: what the notice is about. */
  subject: string;
  /** The start of its dedupe key: one wait, one notice of each phase. */
  key: string;
  /** `request`, `lab`. */
  noun: string;
  /** `destroy lab/114 (forced)`, `lab three-tier on lab`. */
  what: string;
  requester: Requester;
  reasons: readonly string[];
  expiresAt: number;
  /** The command that approves it. */
  approve: string;
  /** What the notice carries besides (ids, the target). */
  data: Record<string, unknown>;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Tells that `item` now awaits approval (`waits`), or that it ran out unapproved (`expired`). */
export function noticeOfApproval(
  deps: Pick<OverseerDeps, 'notifier' | 'clock'>,
  item: AwaitingApproval,
  phase: 'waits' | 'expired',
): void {
  const who = item.requester.name ?? item.requester.id;
  const base = {
    key: `${item.key}:${phase === 'waits' ? 'awaiting_approval' : 'expired'}`,
    subject: item.subject,
    at: deps.clock.now(),
    data: { ...item.data, requester: item.requester, reasons: item.reasons, expiresAt: item.expiresAt },
  };
  if (phase === 'waits') {
    deps.notifier?.notify({
      ...base,
      severity: 'warning',
      title: `${item.noun} awaiting approval: ${item.what}`,
      text:
        `${who} asked for ${item.what}: ${item.reasons.join('; ')}. ` +
        `Another person may approve or deny it until ${iso(item.expiresAt)} (${item.approve}).`,
    });
    return;
  }
  deps.notifier?.notify({
    ...base,
    severity: 'info',
    title: `${item.noun} expired unapproved: ${item.what}`,
    text: `No one approved or denied ${who}'s ${item.what} by ${iso(item.expiresAt)}; nothing was done.`,
  });
}

/** `destroy lab/114 (forced)`, `stop lab/@tag:web`, `drain lab/pve2`, `deploy lab`. */
function requestWhat(spec: RequestSpec): string {
  const { cluster, vmid, selector, node } = spec.target;
  const on = vmid !== undefined ? `/${vmid}` : selector !== undefined ? `/${selector}` : node ? `/${node}` : '';
  return `${spec.action} ${cluster}${on}${spec.force ? ' (forced)' : ''}`;
}

/** A request's wait for approval (from the gate's decision) and its expiry; nothing for its other changes. */
export function requestNotice(
  deps: Pick<OverseerDeps, 'notifier' | 'clock'>,
  id: string,
  context: RequestContext,
  status: RequestStatus,
  from: string,
): void {
  const phase = status === 'awaiting_approval' && from === 'gating' ? 'waits' : status === 'expired' ? 'expired' : '';
  if (!phase || !deps.notifier) return;
  const { spec } = context;
  noticeOfApproval(
    deps,
    {
      subject: `req:${id}`,
      key: `req:${id}`,
      noun: 'request',
      what: requestWhat(spec),
      requester: spec.requester,
      reasons: context.reasons,
      expiresAt: context.expiresAt,
      approve: `overseer approve ${id}`,
      data: { requestId: id, action: spec.action, target: spec.target, force: spec.force },
    },
    phase,
  );
}

/** A lab's wait for approval (from its gate's decision) and its expiry; nothing for its other changes. */
export function labNotice(
  deps: Pick<OverseerDeps, 'notifier' | 'clock'>,
  c: LabContext,
  from: string,
  to: string,
): void {
  const phase = to === 'awaiting_approval' && from === 'gating' ? 'waits' : to === 'expired' ? 'expired' : '';
  if (!phase || !deps.notifier) return;
  noticeOfApproval(
    deps,
    {
      subject: `lab:${c.cluster}/${c.name}`,
      // One wait per apply: a later apply of the same lab waits (and is told) anew.
      key: `lab:${c.cluster}/${c.name}#${c.generation}`,
      noun: 'lab',
      what: `lab ${c.name} on ${c.cluster}`,
      requester: c.requester,
      reasons: c.reasons,
      expiresAt: c.approvalExpiresAt,
      approve: `overseer lab approve ${c.name} --cluster ${c.cluster}`,
      data: { lab: c.name, cluster: c.cluster, generation: c.generation },
    },
    phase,
  );
}
