// What the Overseer runtime is given: the environment, the store, the platforms and where its output goes.
import type { InspectionEvent, Observer } from 'xstate';
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import type { Notifier } from '../adapters/notify';
import type { Platform } from '../adapters/platform/types';
import type { Action, RequestSpec } from '../machines/types';
import type { StateStore } from '../state';
import type { OverseerConfig } from './config';
import type { KnowledgeAdvisor } from './gate-service';
import type { KnowledgeSink, SshTargetSource } from './monitor';

/** Where state changes, decisions and loop events go (NATS in production; a list in tests). */
export interface EventSink {
  publish(subject: string, payload: unknown): void;
}

export interface OverseerDeps {
  clock: Clock;
  log: Log;
  config: OverseerConfig;
  store: StateStore;
  platforms: ReadonlyMap<string, Platform>;
  events?: EventSink | undefined;
  inspect?: Observer<InspectionEvent> | undefined;
  /** Request and incident ids (random UUIDs by default; scenario tests number them). */
  newId?: ((kind: 'request' | 'incident' | 'maintenance') => string) | undefined;
  notifier?: Notifier | undefined;
  ssh?: SshTargetSource | undefined;
  knowledge?: (KnowledgeSink & FailureSink & KnowledgeAdvisor) | undefined;
  /**
   * Awaited after each local commit something waits for: before a submission's answer leaves, and before every
   * platform call (the executor's durable hook). A cluster runtime of several cores (issue 15) ships its record here;
   * none in the single core.
   */
  afterDurable?: (() => Promise<void>) | undefined;
}

/** Where failed requests are written back (the knowledge base). */
export interface FailureSink {
  recordFailedRequest(failure: {
    requestId: string;
    action: Action;
    target: RequestSpec['target'];
    error: string;
    params: Record<string, unknown>;
  }): unknown;
}
