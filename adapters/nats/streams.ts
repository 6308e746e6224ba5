// The JetStream streams (DESIGN §6): OVERSEER_EVENTS keeps `overseer.evt.>` (bounded) for replay;
// OVERSEER_WORK keeps approved work on `overseer.work.>` until a worker acks it. Both on file storage.
// Only nats-server 2.9 features are used (no metadata, no multi-filter consumers, no compression).
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { StreamError } from './errors';
import { subjects } from './subjects';

export const EVENT_STREAM = 'OVERSEER_EVENTS';
export const WORK_STREAM = 'OVERSEER_WORK';

export interface EventStreamLimits {
  /** Most events kept; the oldest go first. */
  maxMsgs: number;
  maxBytes: number;
  /** Events older than this go. */
  maxAgeMs: number;
}

export const DEFAULT_EVENT_STREAM_LIMITS: Readonly<EventStreamLimits> = {
  maxMsgs: 100_000,
  maxBytes: 256 * 1024 * 1024,
  maxAgeMs: 7 * 24 * 3600 * 1000,
};

export interface WorkStreamOptions {
  /** Most queued items; beyond it enqueueing fails (work is never dropped silently). Default 100 000. */
  maxMsgs?: number;
  /** Default 256 MiB. */
  maxBytes?: number;
  /** How long a work id is remembered for dedup; default 1 h. */
  duplicateWindowMs?: number;
}

type ManagedConfig = Pick<
  StreamConfig,
  'name' | 'subjects' | 'retention' | 'storage' | 'discard' | 'max_msgs' | 'max_bytes' | 'max_age' | 'duplicate_window'
>;

const isStreamNotFound = (err: unknown) =>
  err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;

/** Creates the stream, or brings an existing one's limits up to date. Never changes retention or storage. */
async function ensureStream(jsm: JetStreamManager, cfg: ManagedConfig): Promise<StreamInfo> {
  let info: StreamInfo | undefined;
  try {
    info = await jsm.streams.info(cfg.name);
  } catch (err) {
    if (!isStreamNotFound(err)) {
      throw new StreamError(`cannot read stream ${cfg.name}: ${(err as Error).message}`, cfg.name, { cause: err });
    }
  }
  try {
    if (!info) return await jsm.streams.add({ ...cfg, num_replicas: 1 });
    const have = info.config;
    if (have.retention !== cfg.retention || have.storage !== cfg.storage) {
      throw new StreamError(
        `stream ${cfg.name} exists with retention ${have.retention}/${have.storage}, expected ${cfg.retention}/${cfg.storage}; ` +
          'delete it (nats stream rm) to let Overseer recreate it',
        cfg.name,
      );
    }
    const changed =
      have.max_msgs !== cfg.max_msgs ||
      have.max_bytes !== cfg.max_bytes ||
      have.max_age !== cfg.max_age ||
      have.discard !== cfg.discard ||
      have.duplicate_window !== cfg.duplicate_window ||
      have.subjects.join() !== cfg.subjects.join();
    if (!changed) return info;
    const { name: _name, retention: _r, storage: _s, ...update } = cfg;
    return await jsm.streams.update(cfg.name, update);
  } catch (err) {
    if (err instanceof StreamError) throw err;
    throw new StreamError(`cannot create or update stream ${cfg.name}: ${(err as Error).message}`, cfg.name, {
      cause: err,
    });
  }
}

/** OVERSEER_EVENTS on `overseer.evt.>`: limits retention, oldest discarded, file storage. */
export function ensureEventStream(jsm: JetStreamManager, limits: Partial<EventStreamLimits> = {}): Promise<StreamInfo> {
  const { maxMsgs, maxBytes, maxAgeMs } = { ...DEFAULT_EVENT_STREAM_LIMITS, ...limits };
  return ensureStream(jsm, {
    name: EVENT_STREAM,
    subjects: [subjects.allEvents],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs: maxMsgs,
    max_bytes: maxBytes,
    max_age: nanos(maxAgeMs),
    // Events carry no message ids; the window only has to fit inside max_age.
    duplicate_window: nanos(Math.min(maxAgeMs || 120_000, 120_000)),
  });
}

/** OVERSEER_WORK on `overseer.work.>`: work-queue retention (gone once acked), new items refused when full. */
export function ensureWorkStream(jsm: JetStreamManager, opts: WorkStreamOptions = {}): Promise<StreamInfo> {
  return ensureStream(jsm, {
    name: WORK_STREAM,
    subjects: [subjects.allWork],
    retention: RetentionPolicy.Workqueue,
    storage: StorageType.File,
    discard: DiscardPolicy.New,
    max_msgs: opts.maxMsgs ?? 100_000,
    max_bytes: opts.maxBytes ?? 256 * 1024 * 1024,
    max_age: 0,
    duplicate_window: nanos(opts.duplicateWindowMs ?? 3_600_000),
  });
}
