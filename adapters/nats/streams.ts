// The JetStream events stream (DESIGN §6): OVERSEER_EVENTS keeps `overseer.evt.>` (bounded, file storage) for
// replay by subscribers. An installation with a namespace has its own: OVERSEER_EVENTS_<ns> on `overseer.<ns>.evt.>`.
// Only nats-server 2.9 features are used (no metadata, no multi-filter consumers, no compression).
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { assertToken, SUBJECT_ROOT, subjects } from '../../protocol';
import { decodePayload, encodePayload } from './codec';
import { StreamError } from './errors';
import { assertNamespace, toNamespace } from './namespace';

/** The events stream of an installation without a namespace (the embedded default). */
export const EVENT_STREAM = 'OVERSEER_EVENTS';

/** OVERSEER_EVENTS, or OVERSEER_EVENTS_<ns> for an installation with a namespace. */
export function eventStreamName(namespace?: string): string {
  return namespace ? `${EVENT_STREAM}_${assertNamespace(namespace)}` : EVENT_STREAM;
}

export interface EventStreamLimits {
  /** Most events kept; the oldest go first. */
  maxMsgs: number;
  maxBytes: number;
  /** Events older than this go. */
  maxAgeMs: number;
  /**
   * Most events kept per subject (unset: no per-subject limit, the whole history up to the limits above).
   * On nats-server < 2.9.16 (Debian 12's 2.9.10) a stream at its limits with thousands of subjects (one per VM)
   * stores only ~1,000 messages/s: each removal of an oldest message scans for that subject's next message, as far
   * as there are subjects (nats-io/nats-server#4043, fixed by #4048). With 1, each subject keeps its newest event
   * only and a removal never scans: the stream stays as fast as no stream at all (bench/events.ts probe), at the price
   * of the history (a replay, an SSE resume, sees the latest event of each subject, not every one).
   */
  maxMsgsPerSubject?: number | undefined;
}

export const DEFAULT_EVENT_STREAM_LIMITS: Readonly<EventStreamLimits> = {
  maxMsgs: 100_000,
  maxBytes: 256 * 1024 * 1024,
  maxAgeMs: 7 * 24 * 3600 * 1000,
};

type ManagedConfig = Pick<
  StreamConfig,
  'name' | 'subjects' | 'retention' | 'storage' | 'discard' | 'max_msgs' | 'max_bytes' | 'max_age' | 'duplicate_window'
> &
  Partial<Pick<StreamConfig, 'max_msgs_per_subject'>>;

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
      (have.max_msgs_per_subject ?? -1) !== (cfg.max_msgs_per_subject ?? -1) ||
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

export interface EventStreamOptions extends Partial<EventStreamLimits> {
  /** The installation's namespace (the bus's `namespace`); none for the embedded default. */
  namespace?: string | undefined;
}

/**
 * OVERSEER_EVENTS on `overseer.evt.>` (OVERSEER_EVENTS_<ns> on `overseer.<ns>.evt.>` with a namespace): limits
 * retention, oldest discarded, file storage.
 */
export function ensureEventStream(jsm: JetStreamManager, opts: EventStreamOptions = {}): Promise<StreamInfo> {
  const { namespace, ...limits } = opts;
  const { maxMsgs, maxBytes, maxAgeMs, maxMsgsPerSubject } = { ...DEFAULT_EVENT_STREAM_LIMITS, ...limits };
  return ensureStream(jsm, {
    name: eventStreamName(namespace),
    subjects: [toNamespace(subjects.allEvents, namespace)],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs: maxMsgs,
    max_bytes: maxBytes,
    max_age: nanos(maxAgeMs),
    // Events carry no message ids; the window only has to fit inside max_age.
    duplicate_window: nanos(Math.min(maxAgeMs || 120_000, 120_000)),
    ...(maxMsgsPerSubject !== undefined ? { max_msgs_per_subject: maxMsgsPerSubject } : {}),
  });
}

// --- the audit checkpoint stream ------------------------------------------------------------------------------------

/** Checkpoints of the audit chain's head, kept outside SQLite (DESIGN §11): limits retention, file storage. */
export const AUDIT_STREAM = 'OVERSEER_AUDIT';
/** `overseer.audit.checkpoint.<keyId>`: one subject per audit key, so each chain (each core) has its own. */
export const AUDIT_CHECKPOINT_SUBJECT = `${SUBJECT_ROOT}.audit.checkpoint`;

/** OVERSEER_AUDIT, or OVERSEER_AUDIT_<ns> for an installation with a namespace. */
export function auditStreamName(namespace?: string): string {
  return namespace ? `${AUDIT_STREAM}_${assertNamespace(namespace)}` : AUDIT_STREAM;
}

/** The subject of `keyId`'s checkpoints (`overseer.<ns>.audit.checkpoint.<keyId>` with a namespace). */
export function auditCheckpointSubject(keyId: string, namespace?: string): string {
  return toNamespace(`${AUDIT_CHECKPOINT_SUBJECT}.${assertToken(keyId, 'audit key id')}`, namespace);
}

export interface AuditStreamOptions {
  /** Most checkpoints kept (all keys together); the oldest go first. Default 1 000 000 (≈ 2 years at 60 s). */
  maxMsgs?: number | undefined;
  /** Default 256 MiB. */
  maxBytes?: number | undefined;
  /** The installation's namespace (the bus's `namespace`); none for the embedded default. */
  namespace?: string | undefined;
}

/** OVERSEER_AUDIT on `overseer.audit.checkpoint.>`: limits retention, file storage, no age limit (evidence). */
export function ensureAuditStream(jsm: JetStreamManager, opts: AuditStreamOptions = {}): Promise<StreamInfo> {
  return ensureStream(jsm, {
    name: auditStreamName(opts.namespace),
    subjects: [toNamespace(`${AUDIT_CHECKPOINT_SUBJECT}.>`, opts.namespace)],
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
    max_msgs: opts.maxMsgs ?? 1_000_000,
    max_bytes: opts.maxBytes ?? 256 * 1024 * 1024,
    max_age: 0,
    duplicate_window: nanos(120_000),
  });
}

/** Stores one checkpoint for `keyId`; resolves with its stream sequence once the server has stored it. */
export async function publishAuditCheckpoint(
  js: JetStreamClient,
  keyId: string,
  checkpoint: unknown,
  namespace?: string,
): Promise<number> {
  const stream = auditStreamName(namespace);
  try {
    const ack = await js.publish(auditCheckpointSubject(keyId, namespace), encodePayload(checkpoint), {
      expect: { streamName: stream },
    });
    return ack.seq;
  } catch (err) {
    throw new StreamError(`cannot store an audit checkpoint in ${stream}: ${(err as Error).message}`, stream, {
      cause: err,
    });
  }
}

/** The newest checkpoint stored for `keyId` (decoded JSON, not yet checked), or undefined when there is none. */
export async function readLastAuditCheckpoint(
  jsm: JetStreamManager,
  keyId: string,
  namespace?: string,
): Promise<unknown> {
  const stream = auditStreamName(namespace);
  try {
    const stored = await jsm.streams.getMessage(stream, { last_by_subj: auditCheckpointSubject(keyId, namespace) });
    return stored ? decodePayload(stored.data) : undefined;
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.NoMessageFound) return undefined;
    throw new StreamError(`cannot read the last audit checkpoint from ${stream}: ${(err as Error).message}`, stream, {
      cause: err,
    });
  }
}
