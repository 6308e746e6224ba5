// The lease store (DESIGN §14): compare-and-set records of who owns which Proxmox cluster, in a replicated JetStream
// key-value bucket. The bucket is a KV bucket in the standard layout (stream KV_<bucket> on `$KV.<bucket>.>`, one
// message kept per key, deletes as `KV-Operation: DEL` markers), written through the JetStream stream API because
// @nats-io/kv is not installed: a later switch to it reads and writes the same bucket. Only nats-server 2.9 features.
//
// A key's revision is its last message's stream sequence. create / update / delete carry the revision they expect
// (Nats-Expected-Last-Subject-Sequence), so the stream leader accepts a write only on the revision its writer saw:
// that is the whole consensus, done by JetStream's Raft group (R3 on a three-server cluster). Reads go to the stream
// leader (STREAM.MSG.GET, not direct get), so a read never returns a revision older than an acknowledged write.
import {
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StoredMsg,
} from '@nats-io/jetstream';
import { headers, type NatsConnection, nanos, TimeoutError } from '@nats-io/transport-node';
import { z } from 'zod';
import { type Clock, SystemClock } from '../clock';
import { assertNamespace } from './namespace';

/** The lease bucket of an installation without a namespace. */
export const LEASE_BUCKET = 'OVERSEER_LEASES';

/** OVERSEER_LEASES, or OVERSEER_LEASES_<ns> for an installation with a namespace (like eventStreamName). */
export function leaseBucketName(namespace?: string): string {
  return namespace ? `${LEASE_BUCKET}_${assertNamespace(namespace)}` : LEASE_BUCKET;
}

/** A key: tokens of letters, digits, '-', '_', '=' or '/', joined by '.' (`cluster.lab`, `core.core-a`). */
const KEY = /^[-/_=A-Za-z0-9]+(\.[-/_=A-Za-z0-9]+)*$/;
/** One token of a key: a cluster name or a core id. */
const KEY_TOKEN = /^[-_=A-Za-z0-9]{1,128}$/;

function keyToken(value: unknown, what: string): string {
  if (typeof value !== 'string' || !KEY_TOKEN.test(value)) {
    throw new LeaseStoreError(
      `invalid ${what} '${String(value)}' for a lease key: 1 to 128 letters, digits, '-', '_' or '='`,
      String(value),
    );
  }
  return value;
}

/** The keys of the bucket, built here only: `cluster.<name>` holds the lease of a Proxmox cluster. */
export const leaseKey = (cluster: string): string => `cluster.${keyToken(cluster, 'cluster name')}`;
/** Under `core.` each core keeps its presence record (see actors/lease-presence.ts). */
export const presencePrefix = 'core';
export const presenceKey = (core: string): string => `${presencePrefix}.${keyToken(core, 'core id')}`;

/** What a lease (or a core's presence) record holds. Extra fields are kept, for later versions. */
export const leaseValueSchema = z.looseObject({
  /** The core holding the lease. */
  core: z.string().min(1),
  /** Grows with each acquisition by a core (a renewal keeps it). */
  epoch: z.number().int().nonnegative(),
  /** Writes by this holder in this epoch (0 for the acquiring write). */
  seq: z.number().int().nonnegative(),
});
/** A lease value (a record read may carry more fields; they are kept but not typed). */
export interface LeaseValue {
  core: string;
  epoch: number;
  seq: number;
}

export interface LeaseEntry {
  key: string;
  /** The stream sequence of the key's last write: what create/update/delete compare with. */
  revision: number;
  value: LeaseValue;
}

/** Compare-and-set records, each with a revision. Every call is bounded by the store's timeout. */
export interface LeaseStore {
  readonly bucket: string;
  /** The live record, or null when the key was never written or was deleted. */
  get(key: string): Promise<LeaseEntry | null>;
  /** Writes a key that has no live record; LeaseConflictError when it has one. Resolves with the new revision. */
  create(key: string, value: LeaseValue): Promise<number>;
  /** Writes over `revision`; LeaseConflictError when the key's revision is another. Resolves with the new revision. */
  update(key: string, value: LeaseValue, revision: number): Promise<number>;
  /** Deletes the record at `revision` (a release); LeaseConflictError when the key's revision is another. */
  delete(key: string, revision: number): Promise<void>;
  /** The live records of the keys under `prefix` (e.g. `core`), by key; records that are not lease values are left out. */
  list(prefix: string): Promise<LeaseEntry[]>;
}

/** A lease store call failed (no answer, no JetStream, a refused write other than a conflict). */
export class LeaseStoreError extends Error {
  override name = 'LeaseStoreError';
  constructor(
    message: string,
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** No answer within the store's timeout: the write may or may not have been stored. */
export class LeaseStoreTimeoutError extends LeaseStoreError {
  override name = 'LeaseStoreTimeoutError';
  constructor(
    message: string,
    key: string,
    readonly timeoutMs: number,
    options?: { cause?: unknown },
  ) {
    super(message, key, options);
  }
}

/** The key's revision was not the one expected (create: the key already has a live record). */
export class LeaseConflictError extends LeaseStoreError {
  override name = 'LeaseConflictError';
  constructor(
    message: string,
    key: string,
    /** The revision the write expected; 0 for create. */
    readonly expectedRevision: number,
    options?: { cause?: unknown },
  ) {
    super(message, key, options);
  }
}

/** A record that is not a lease value (not JSON, or not `{core, epoch, seq}`). */
export class LeaseValueError extends LeaseStoreError {
  override name = 'LeaseValueError';
  constructor(
    message: string,
    key: string,
    /** The revision of the bad record: a CAS update over it replaces it. */
    readonly revision: number,
    options?: { cause?: unknown },
  ) {
    super(message, key, options);
  }
}

export interface KvLeaseStoreOptions {
  /** The installation's namespace (the bus's `namespace`); none for the embedded default. */
  namespace?: string | undefined;
  /** Copies of the bucket: 3 on a three-server cluster, 1 on a single server (default). */
  replicas?: number;
  /** Bound on every call; default 2 000 ms. */
  timeoutMs?: number;
  /** Bound on opening (creating) the bucket; default 10 000 ms. */
  openTimeoutMs?: number;
  /** For the call bounds; default the system clock. */
  clock?: Clock;
}

const KV_OPERATION = 'KV-Operation';
const TOMBSTONES = new Set(['DEL', 'PURGE']);
const codec = new TextEncoder();
const decoder = new TextDecoder();

const isWrongRevision = (err: unknown) =>
  err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence;
const isStreamNotFound = (err: unknown) =>
  err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;

function assertKey(key: unknown): string {
  if (typeof key !== 'string' || key.length > 256 || !KEY.test(key)) {
    throw new LeaseStoreError(
      `invalid lease key '${String(key)}': tokens of letters, digits, '-', '_', '=' or '/' joined by '.'`,
      String(key),
    );
  }
  return key;
}

/** The lease store on a JetStream KV bucket; `open` creates the bucket when it is missing. */
export class KvLeaseStore implements LeaseStore {
  readonly bucket: string;
  readonly stream: string;
  private readonly timeoutMs: number;
  private readonly clock: Clock;

  private constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    bucket: string,
    opts: KvLeaseStoreOptions,
  ) {
    this.bucket = bucket;
    this.stream = `KV_${bucket}`;
    this.timeoutMs = opts.timeoutMs ?? 2_000;
    this.clock = opts.clock ?? new SystemClock();
  }

  /** Opens (creating if needed) the bucket of `namespace` with `replicas` copies. */
  static async open(nc: NatsConnection, opts: KvLeaseStoreOptions = {}): Promise<KvLeaseStore> {
    const bucket = leaseBucketName(opts.namespace);
    const replicas = opts.replicas ?? 1;
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
      throw new LeaseStoreError(`invalid replicas ${replicas} for bucket ${bucket}: 1 to 5`, '');
    }
    const timeout = opts.timeoutMs ?? 2_000;
    const jsm = await jetstreamManager(nc, { timeout, checkAPI: false });
    const store = new KvLeaseStore(jetstream(nc, { timeout }), jsm, bucket, opts);
    // Placing an R3 stream takes the meta leader a while: opening has its own, longer bound.
    const openTimeout = Math.max(timeout, opts.openTimeoutMs ?? 10_000);
    const admin = await jetstreamManager(nc, { timeout: openTimeout, checkAPI: false });
    const opener = new KvLeaseStore(jetstream(nc, { timeout: openTimeout }), admin, bucket, {
      ...opts,
      timeoutMs: openTimeout,
    });
    await opener.bounded('', 'open the bucket', () => opener.ensureBucket(replicas));
    return store;
  }

  private async ensureBucket(replicas: number): Promise<void> {
    const config = {
      name: this.stream,
      subjects: [`$KV.${this.bucket}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.New,
      num_replicas: replicas,
      max_msgs_per_subject: 1,
      max_age: 0,
      duplicate_window: nanos(120_000),
      allow_rollup_hdrs: true,
      deny_delete: true,
      deny_purge: false,
      allow_direct: true,
    };
    try {
      const info = await this.jsm.streams.info(this.stream);
      if (info.config.num_replicas !== replicas) {
        throw new LeaseStoreError(
          `bucket ${this.bucket} has ${info.config.num_replicas} replicas, expected ${replicas}`,
          '',
        );
      }
      return;
    } catch (err) {
      if (!isStreamNotFound(err)) throw err;
    }
    try {
      await this.jsm.streams.add(config);
    } catch (err) {
      // Another core created it at the same moment: the same config is accepted, another is reported above next time.
      await this.jsm.streams.info(this.stream).catch(() => Promise.reject(err));
    }
  }

  private subject(key: string): string {
    return `$KV.${this.bucket}.${assertKey(key)}`;
  }

  /** Runs one call within the timeout; maps the client's errors to the store's. */
  private async bounded<T>(key: string, what: string, call: () => Promise<T>): Promise<T> {
    const limit = this.timeoutMs + 250;
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = this.clock.setTimeout(
        () => reject(new LeaseStoreTimeoutError(`${what} (${this.bucket}): no answer within ${limit} ms`, key, limit)),
        limit,
      );
    });
    try {
      return await Promise.race([call(), expired]);
    } catch (err) {
      if (err instanceof LeaseStoreError) throw err;
      if (err instanceof TimeoutError) {
        throw new LeaseStoreTimeoutError(`${what} (${this.bucket}): no answer in time`, key, this.timeoutMs, {
          cause: err,
        });
      }
      throw new LeaseStoreError(`${what} (${this.bucket}): ${(err as Error).message}`, key, { cause: err });
    } finally {
      if (timer !== undefined) this.clock.clearTimeout(timer);
    }
  }

  /** The key's last message (a value or a tombstone), or null. */
  private last(key: string): Promise<StoredMsg | null> {
    return this.jsm.streams.getMessage(this.stream, { last_by_subj: this.subject(key) });
  }

  private decode(key: string, msg: StoredMsg): LeaseEntry | null {
    const op = msg.header?.get(KV_OPERATION);
    if (op && TOMBSTONES.has(op)) return null;
    let raw: unknown;
    try {
      raw = JSON.parse(decoder.decode(msg.data));
    } catch (err) {
      throw new LeaseValueError(`lease key '${key}' (revision ${msg.seq}) is not JSON`, key, msg.seq, { cause: err });
    }
    const parsed = leaseValueSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
      throw new LeaseValueError(
        `lease key '${key}' (revision ${msg.seq}) is not a lease value${where}: ${issue?.message ?? 'invalid'}`,
        key,
        msg.seq,
        { cause: parsed.error },
      );
    }
    return { key, revision: msg.seq, value: parsed.data };
  }

  get(key: string): Promise<LeaseEntry | null> {
    return this.bounded(key, `read lease key '${key}'`, async () => {
      const msg = await this.last(key);
      return msg ? this.decode(key, msg) : null;
    });
  }

  private async write(key: string, value: LeaseValue | null, revision: number): Promise<number> {
    const h = headers();
    if (value === null) h.set(KV_OPERATION, 'DEL');
    const data = value === null ? undefined : codec.encode(JSON.stringify(value));
    const ack = await this.js.publish(this.subject(key), data, {
      headers: h,
      timeout: this.timeoutMs,
      expect: { lastSubjectSequence: revision, streamName: this.stream },
    });
    return ack.seq;
  }

  create(key: string, value: LeaseValue): Promise<number> {
    const conflict = (cause?: unknown) =>
      new LeaseConflictError(`lease key '${key}' already has a live record`, key, 0, { cause });
    return this.bounded(key, `create lease key '${key}'`, async () => {
      try {
        return await this.write(key, leaseValueSchema.parse(value), 0);
      } catch (err) {
        if (!isWrongRevision(err)) throw err;
        // The key has a message: create only over a tombstone, by its revision (as @nats-io/kv does).
        const msg = await this.last(key);
        const op = msg?.header?.get(KV_OPERATION);
        if (!msg || !op || !TOMBSTONES.has(op)) throw conflict(err);
        try {
          return await this.write(key, value, msg.seq);
        } catch (again) {
          throw isWrongRevision(again) ? conflict(again) : again;
        }
      }
    });
  }

  update(key: string, value: LeaseValue, revision: number): Promise<number> {
    return this.bounded(key, `update lease key '${key}'`, async () => {
      try {
        return await this.write(key, leaseValueSchema.parse(value), revision);
      } catch (err) {
        if (!isWrongRevision(err)) throw err;
        throw new LeaseConflictError(`lease key '${key}' is no longer at revision ${revision}`, key, revision, {
          cause: err,
        });
      }
    });
  }

  delete(key: string, revision: number): Promise<void> {
    return this.bounded(key, `delete lease key '${key}'`, async () => {
      try {
        await this.write(key, null, revision);
      } catch (err) {
        if (!isWrongRevision(err)) throw err;
        throw new LeaseConflictError(`lease key '${key}' is no longer at revision ${revision}`, key, revision, {
          cause: err,
        });
      }
    });
  }

  list(prefix: string): Promise<LeaseEntry[]> {
    const filter = `${this.subject(prefix)}.>`;
    return this.bounded(prefix, `list lease keys under '${prefix}'`, async () => {
      const info = await this.jsm.streams.info(this.stream, { subjects_filter: filter });
      const base = `$KV.${this.bucket}.`;
      const live: LeaseEntry[] = [];
      for (const subject of Object.keys(info.state.subjects ?? {}).sort()) {
        const key = subject.slice(base.length);
        const msg = await this.last(key);
        if (!msg) continue;
        try {
          const entry = this.decode(key, msg);
          if (entry) live.push(entry);
        } catch (err) {
          if (!(err instanceof LeaseValueError)) throw err;
        }
      }
      return live;
    });
  }
}

/** Opens the JetStream KV lease store (see KvLeaseStore.open). */
export function openKvLeaseStore(nc: NatsConnection, opts: KvLeaseStoreOptions = {}): Promise<LeaseStore> {
  return KvLeaseStore.open(nc, opts);
}
