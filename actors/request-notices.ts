// What a request tells people through the notifier's channels: that it waits for a second person's approval (someone
// has to act, or it runs out), and that it ran out with no one's word. Told once, on the change itself: a request
// restored after a restart is not told again.
import type { RequestContext } from '../machines/request.machine';
import type { RequestSpec, RequestStatus } from '../machines/types';
import type { OverseerDeps } from './overseer-deps';

/** `destroy lab/114`, `stop lab/@tag:web`, `drain lab/pve2`, `deploy lab`. */
function requestWhat(spec: RequestSpec): string {
  const { cluster, vmid, selector, node } = spec.target;
  const on = vmid !== undefined ? `/${vmid}` : selector !== undefined ? `/${selector}` : node ? `/${node}` : '';
  return `${spec.action} ${cluster}${on}`;
}

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Notifies a request's wait for approval (from the gate's decision) and its expiry; nothing for other changes. */
export function noticeOfChange(
  deps: Pick<OverseerDeps, 'notifier' | 'clock'>,
  id: string,
  context: RequestContext,
  status: RequestStatus,
  from: string,
): void {
  const notifier = deps.notifier;
  if (!notifier) return;
  const waits = status === 'awaiting_approval' && from === 'gating';
  if (!waits && status !== 'expired') return;
  const { spec } = context;
  const what = requestWhat(spec);
  const who = spec.requester.name ?? spec.requester.id;
  const data = {
    requestId: id,
    action: spec.action,
    target: spec.target,
    force: spec.force,
    requester: spec.requester,
    reasons: context.reasons,
    expiresAt: context.expiresAt,
  };
  const at = deps.clock.now();
  if (waits) {
    notifier.notify({
      key: `${id}:awaiting_approval`,
      severity: 'warning',
      title: `request awaiting approval: ${what}`,
      text:
        `${who} asked for ${what}${spec.force ? ' (forced)' : ''}: ${context.reasons.join('; ')}. ` +
        `Another person may approve or deny it until ${iso(context.expiresAt)} (overseer approve ${id}).`,
      subject: `req:${id}`,
      at,
      data,
    });
    return;
  }
  notifier.notify({
    key: `${id}:expired`,
    severity: 'info',
    title: `request expired unapproved: ${what}`,
    text: `No one approved or denied ${who}'s ${what} by ${iso(context.expiresAt)}; nothing was done.`,
    subject: `req:${id}`,
    at,
    data,
  });
}
