// Requests executing longer than `requestExecutingMaxMs`.
import { condition, duration, subjectOf } from '../condition';
import type { Condition, Detector } from '../types';

export const detectStuckRequests: Detector = ({ input }) => {
  const { now, thresholds } = input;
  const conditions: Condition[] = [];
  for (const request of input.requests) {
    if (request.status !== 'executing') continue;
    const running = now - request.since;
    if (running < thresholds.requestExecutingMaxMs) continue;
    const target =
      request.target.vmid !== undefined ? `${request.target.cluster}/${request.target.vmid}` : request.target.cluster;
    conditions.push(
      condition(
        'request-stuck',
        subjectOf.request(request.id),
        'warning',
        `Request ${request.id} (${request.action} ${target}) has been executing for ${duration(running)} ` +
          `(limit ${duration(thresholds.requestExecutingMaxMs)})`,
        { action: request.action, target: request.target, since: request.since },
      ),
    );
  }
  return { conditions };
};
