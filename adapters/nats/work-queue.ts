// Durable work on OVERSEER_WORK: an approved request is enqueued once (msgID dedup) and stays in the
// stream until a worker's handler resolves and the ack is confirmed. A worker that dies mid-way leaves
// the item to be redelivered after ack_wait; a server killed and restarted keeps it (file storage).
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JsMsg,
  type PubAck,
  ReplayPolicy,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import type { Log } from '../log';
import { decodePayload, encodePayload } from './codec';
import { InvalidSubjectError, StreamError } from './errors';
import { WORK_STREAM } from './streams';
import { assertSubject, subjects } from './subjects';

export interface EnqueueOptions {
  /** Identifies the work item: enqueueing the same id again (within the dedup window) stores nothing. */
  msgId: string;
  timeoutMs?: number;
}

export interface EnqueueResult {
  seq: number;
  /** True when this id was already queued: nothing new was stored. */
  duplicate: boolean;
}

const WORK_PREFIX = `${subjects.root}.work.`;

/** Stores a work item durably. Idempotent per msgId. Throws StreamError when it could not be stored. */
export async function enqueueWork(
  js: JetStreamClient,
  subject: string,
  payload: unknown,
  opts: EnqueueOptions,
): Promise<EnqueueResult> {
  assertSubject(subject);
  if (!subject.startsWith(WORK_PREFIX)) {
    throw new InvalidSubjectError(`work subject '${subject}' must start with '${WORK_PREFIX}'`, subject, 'subject');
  }
  let ack: PubAck;
  try {
    ack = await js.publish(subject, encodePayload(payload), {
      msgID: opts.msgId,
      expect: { streamName: WORK_STREAM },
      ...(opts.timeoutMs ? { timeout: opts.timeoutMs } : {}),
    });
  } catch (err) {
    throw new StreamError(`cannot enqueue work on ${subject}: ${(err as Error).message}`, WORK_STREAM, {
      cause: err,
    });
  }
  return { seq: ack.seq, duplicate: ack.duplicate };
}

export interface WorkItem<T = unknown> {
  subject: string;
  payload: T;
  /** Stream sequence. */
  seq: number;
  /** 1 on first delivery. */
  deliveryCount: number;
  redelivered: boolean;
}

export type WorkHandler = (item: WorkItem) => Promise<void>;

export interface ConsumeWorkOptions {
  /** Only items matching this filter (e.g. subjects.workQueueFilter('execute')); default every work item. */
  filter?: string;
  /** Unacked items are redelivered after this; default 30 s. Kept alive while the handler runs. */
  ackWaitMs?: number;
  /** Handlers running at once; default 1. */
  concurrency?: number;
  /** Deliveries before an item is given up (-1: never); default -1. */
  maxDeliver?: number;
  /** Delay before an item whose handler failed is redelivered; default 1 s. */
  retryDelayMs?: number;
  log?: Log;
}

export interface WorkConsumer {
  /** Stops pulling and waits for running handlers to finish. Unfinished items stay queued. */
  stop(): Promise<void>;
}

const isConsumerNotFound = (err: unknown) =>
  err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound;

/**
 * Runs `handler` for each work item of the durable pull consumer `durable` (created if missing).
 * An item is acked only after the handler resolves; a rejection or a crash gets it redelivered.
 * A payload that is not JSON is terminated (it would fail forever).
 */
export async function consumeWork(
  js: JetStreamClient,
  durable: string,
  handler: WorkHandler,
  opts: ConsumeWorkOptions = {},
): Promise<WorkConsumer> {
  const ackWaitMs = opts.ackWaitMs ?? 30_000;
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const retryDelayMs = opts.retryDelayMs ?? 1_000;
  const { log } = opts;
  const filter = opts.filter ?? subjects.allWork;

  let messages: ConsumerMessages;
  try {
    const jsm = await js.jetstreamManager();
    const wanted = {
      ack_wait: nanos(ackWaitMs),
      max_deliver: opts.maxDeliver ?? -1,
      max_ack_pending: Math.max(concurrency, 1_000),
      filter_subject: filter,
    };
    try {
      const ci = await jsm.consumers.info(WORK_STREAM, durable);
      const c = ci.config;
      if (c.ack_wait !== wanted.ack_wait || c.max_deliver !== wanted.max_deliver || c.filter_subject !== filter) {
        await jsm.consumers.update(WORK_STREAM, durable, wanted);
      }
    } catch (err) {
      if (!isConsumerNotFound(err)) throw err;
      await jsm.consumers.add(WORK_STREAM, {
        ...wanted,
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        replay_policy: ReplayPolicy.Instant,
      });
    }
    const consumer = await js.consumers.get(WORK_STREAM, durable);
    messages = await consumer.consume({ max_messages: concurrency, expires: 10_000 });
  } catch (err) {
    throw new StreamError(`cannot consume work as ${durable}: ${(err as Error).message}`, WORK_STREAM, {
      cause: err,
    });
  }

  const running = new Set<Promise<void>>();
  let freeSlot: (() => void) | undefined;

  // A nak/term on a closed connection cannot be sent; the server redelivers after ack_wait anyway.
  const settle = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      log?.warn(`work consumer ${durable}: ${(err as Error).message}`);
    }
  };

  const handle = async (m: JsMsg): Promise<void> => {
    let payload: unknown;
    try {
      payload = decodePayload(m.data);
    } catch (err) {
      log?.error(`work ${m.subject} #${m.seq}: dropped, payload is not JSON`, err);
      settle(() => m.term());
      return;
    }
    // Tell the server we are still at it, so a long handler is not redelivered to another worker.
    const keepAlive = setInterval(
      () => {
        try {
          m.working();
        } catch {
          clearInterval(keepAlive); // connection closed: the server will redeliver after ack_wait
        }
      },
      Math.max(100, Math.floor(ackWaitMs / 2)),
    );
    try {
      await handler({
        subject: m.subject,
        payload,
        seq: m.seq,
        deliveryCount: m.info.deliveryCount,
        redelivered: m.redelivered,
      });
    } catch (err) {
      clearInterval(keepAlive);
      log?.warn(`work ${m.subject} #${m.seq}: handler failed, retry in ${retryDelayMs} ms: ${(err as Error).message}`);
      settle(() => m.nak(retryDelayMs));
      return;
    }
    clearInterval(keepAlive);
    try {
      await m.ackAck();
    } catch (err) {
      // The item may come again: handlers must be idempotent (a recorded task id is polled, never re-issued).
      log?.warn(`work ${m.subject} #${m.seq}: ack not confirmed: ${(err as Error).message}`);
    }
  };

  const loop = (async () => {
    for await (const m of messages) {
      const p = handle(m).finally(() => {
        running.delete(p);
        freeSlot?.();
      });
      running.add(p);
      while (running.size >= concurrency) {
        await new Promise<void>((r) => {
          freeSlot = r;
        });
      }
    }
  })().catch((err) => log?.error(`work consumer ${durable} stopped`, err));

  return {
    async stop() {
      await messages.close();
      freeSlot?.();
      await loop;
      await Promise.allSettled([...running]);
    },
  };
}
