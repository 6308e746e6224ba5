// The core's fleet summary as the core publishes it at every health cycle (`overseer.evt.loop.health.summary`).
// The gateway subscribes once and keeps the last valid one, so /metrics never costs a core query.
import type { Bus, SummaryReply } from '../protocol';
import { SummaryReplySchema, subjects } from '../protocol';
import type { GatewayClock, GatewayLog } from './deps';

/** Where the core publishes its summary. */
export const SUMMARY_SUBJECT = subjects.evtLoop('health', 'summary');

export interface ReceivedSummary {
  summary: SummaryReply;
  /** When the gateway received it (its clock, epoch ms). */
  receivedAt: number;
}

export interface SummaryFeed {
  /** The last valid summary received, or undefined before the first. */
  latest(): ReceivedSummary | undefined;
  /** Stops listening. */
  close(): void;
}

export function createSummaryFeed(
  bus: Pick<Bus, 'subscribe'>,
  clock: Pick<GatewayClock, 'now'>,
  log: GatewayLog,
): SummaryFeed {
  let last: ReceivedSummary | undefined;
  let warned = false;
  let unsubscribe: (() => void) | undefined;
  try {
    unsubscribe = bus.subscribe(SUMMARY_SUBJECT, (_subject, payload) => {
      const parsed = SummaryReplySchema.safeParse(payload);
      if (!parsed.success) {
        // Once: a core speaking another version would otherwise fill the log every cycle.
        if (!warned) log.warn(`ignored a summary on ${SUMMARY_SUBJECT} that is not a SummaryReply`);
        warned = true;
        return;
      }
      last = { summary: parsed.data, receivedAt: clock.now() };
    });
  } catch (error) {
    log.error(`cannot subscribe to ${SUMMARY_SUBJECT}: /metrics will have no fleet counts`, error);
  }
  return {
    latest: () => last,
    close: () => {
      const off = unsubscribe;
      unsubscribe = undefined;
      off?.();
    },
  };
}
