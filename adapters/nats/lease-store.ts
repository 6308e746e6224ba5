// The lease store (DESIGN §14): compare-and-set records of who owns which Proxmox cluster, in a replicated JetStream
// key-value bucket, through @nats-io/kv (stream KV_<bucket> on `$KV.<bucket>.>`, one message kept per key, deletes
// as `KV-Operation: DEL` markers). Only nats-server 2.9 features: kv.create sends the library's defaults for the
// server it talks to (history 1, discard new, allow_direct, rollup headers), no 2.10 options. Hand-written: the
// bucket's replicas check and retries on open, list's key names (see list) and the writes (below).
//
// A key's revision is its last message's stream sequence. create / update / delete carry the revision they expect,
// so the stream leader accepts a write only on the revision its writer saw: that is the whole consensus, done by
// JetStream's Raft group (R3 on a three-server cluster). They are not @nats-io/kv's (see write): nats-server
// before 2.9.21 compares a key's expected revision with what it has stored, not with what it has accepted and not
// stored yet, so concurrent writes at one revision all land (nats-io/nats-server#4320); each write also names the
// stream's last sequence, which the leader counts as it accepts.
//
// Reads go to the stream leader: the bucket is opened with `allow_direct: false`, so kv.get asks STREAM.MSG.GET
// (answered by the leader) rather than a direct get that any replica, a lagging one too, may answer. So a read never
// returns a revision older than an acknowledged write, after a leader change too (the new leader has every
// acknowledged write). A stale read would not break the leases (a take-over is a CAS on the revision read: on a
// stale one it fails, and a revision seen later only starts the wait later), but it would delay take-overs and make
// a release after a lost answer fail; leader reads keep the store as it was.
import { type JetStreamClient, type JetStreamManager, jetstream } from '@nats-io/jetstream';
import { type KV, type KvEntry, Kvm } from '@nats-io/kv';
import { headers, type NatsConnection, TimeoutError } from '@nats-io/transport-node';
import { z } from 'zod';
import { type Clock, SystemClock } from '../clock';
import { boundedCall, ensureKvBucket, isWrongRevision } from './kv-bucket';
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

const codec = new TextEncoder();

/** How many times a write reads the stream again when other keys' writes keep landing between its read and publish. */
const WRITE_ATTEMPTS = 8;
/** The key written once into an empty bucket, so that every write can name a last sequence (see write). */
const FIRST_KEY = 'bucket.created';
/** The header that marks a key's message a delete (as @nats-io/kv writes it; not exported by it). */
const KV_OPERATION = 'KV-Operation';

function assertKey(key: unknown): string {
  if (typeof key !== 'string' || key.length > 256 || !KEY.test(key)) {
    throw new LeaseStoreError(
      `invalid lease key '${String(key)}': tokens of letters, digits, '-', '_', '=' or '/' joined by '.'`,
      String(key),
    );
  }
  return key;
}

/** update and delete compare with a revision a read or a write returned: a positive integer (0 would not compare). */
function assertRevision(key: string, revision: unknown): number {
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 1) {
    throw new LeaseStoreError(`invalid revision ${String(revision)} for lease key '${key}': a positive integer`, key);
  }
  return revision;
}

const encode = (value: LeaseValue) => codec.encode(JSON.stringify(leaseValueSchema.parse(value)));

/** Runs `call` within `limitMs` on `clock`; maps the client's errors to the store's. */
function bounded<T>(
  clock: Clock,
  limitMs: number,
  bucket: string,
  key: string,
  what: string,
  call: () => Promise<T>,
): Promise<T> {
  return boundedCall(
    clock,
    limitMs + 250,
    call,
    (limit) => new LeaseStoreTimeoutError(`${what} (${bucket}): no answer within ${limit} ms`, key, limit),
    (err) => {
      if (err instanceof LeaseStoreError) return err;
      if (err instanceof TimeoutError) {
        return new LeaseStoreTimeoutError(`${what} (${bucket}): no answer in time`, key, limitMs, { cause: err });
      }
      return new LeaseStoreError(`${what} (${bucket}): ${(err as Error).message}`, key, { cause: err });
    },
  );
}

/** The lease store on a JetStream KV bucket; `open` creates the bucket when it is missing. */
export class KvLeaseStore implements LeaseStore {
  readonly stream: string;

  private constructor(
    private readonly kv: KV,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    readonly bucket: string,
    private readonly timeoutMs: number,
    private readonly clock: Clock,
  ) {
    this.stream = `KV_${bucket}`;
  }

  /** Opens (creating if needed) the bucket of `namespace` with `replicas` copies. */
  static async open(nc: NatsConnection, opts: KvLeaseStoreOptions = {}): Promise<KvLeaseStore> {
    const bucket = leaseBucketName(opts.namespace);
    const replicas = opts.replicas ?? 1;
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
      throw new LeaseStoreError(`invalid replicas ${replicas} for bucket ${bucket}: 1 to 5`, '');
    }
    const timeout = opts.timeoutMs ?? 2_000;
    const clock = opts.clock ?? new SystemClock();
    // Placing an R3 stream takes the meta leader a while: creating has its own, longer bound.
    const openTimeout = Math.max(timeout, opts.openTimeoutMs ?? 10_000);
    const admin = new Kvm(jetstream(nc, { timeout: Math.max(timeout, openTimeout / 4), checkAPI: false }));
    let gaveUp = false;
    await bounded(clock, openTimeout, bucket, '', 'open the bucket', () =>
      ensureKvBucket(
        admin,
        bucket,
        replicas,
        () => gaveUp,
        (message) => new LeaseStoreError(message, ''),
      ),
    ).finally(() => {
      gaveUp = true;
    });
    // The handle for the calls: their timeout, and reads from the stream leader (see the top of the file).
    const js = jetstream(nc, { timeout, checkAPI: false });
    const kv = await new Kvm(js).open(bucket, { allow_direct: false });
    return new KvLeaseStore(kv, js, await js.jetstreamManager(false), bucket, timeout, clock);
  }

  private bounded<T>(key: string, what: string, call: () => Promise<T>): Promise<T> {
    return bounded(this.clock, this.timeoutMs, this.bucket, key, what, call);
  }

  private decode(key: string, entry: KvEntry): LeaseEntry | null {
    if (entry.operation !== 'PUT') return null;
    let raw: unknown;
    try {
      raw = entry.json<unknown>();
    } catch (err) {
      throw new LeaseValueError(`lease key '${key}' (revision ${entry.revision}) is not JSON`, key, entry.revision, {
        cause: err,
      });
    }
    const parsed = leaseValueSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue?.path.length ? ` at ${issue.path.join('.')}` : '';
      throw new LeaseValueError(
        `lease key '${key}' (revision ${entry.revision}) is not a lease value${where}: ${issue?.message ?? 'invalid'}`,
        key,
        entry.revision,
        { cause: parsed.error },
      );
    }
    return { key, revision: entry.revision, value: parsed.data };
  }

  private async read(key: string): Promise<LeaseEntry | null> {
    const entry = await this.kv.get(assertKey(key));
    return entry ? this.decode(key, entry) : null;
  }

  get(key: string): Promise<LeaseEntry | null> {
    return this.bounded(key, `read lease key '${key}'`, () => this.read(key));
  }

  create(key: string, value: LeaseValue): Promise<number> {
    return this.bounded(key, `create lease key '${key}'`, () =>
      this.write(
        key,
        encode(value),
        'free',
        () => new LeaseConflictError(`lease key '${key}' already has a live record`, key, 0),
      ),
    );
  }

  update(key: string, value: LeaseValue, revision: number): Promise<number> {
    return this.bounded(key, `update lease key '${key}'`, () =>
      this.write(key, encode(value), assertRevision(key, revision), () => this.moved(key, revision)),
    );
  }

  async delete(key: string, revision: number): Promise<void> {
    await this.bounded(key, `delete lease key '${key}'`, () =>
      this.write(key, undefined, assertRevision(key, revision), () => this.moved(key, revision)),
    );
  }

  private moved(key: string, revision: number): LeaseConflictError {
    return new LeaseConflictError(`lease key '${key}' is no longer at revision ${revision}`, key, revision);
  }

  /**
   * Writes `data` (undefined: a delete marker) to `key` where its last message is at `expected` ('free': no message,
   * or a delete marker). The leader accepts it only if the stream's last sequence is still the one read here, counting
   * what it accepted and has not stored yet; so of concurrent writes at one revision one lands, the others are
   * refused and find the key moved when they read it again. A refusal because another key was written meanwhile is
   * read again and retried.
   */
  private async write(
    key: string,
    data: Uint8Array | undefined,
    expected: number | 'free',
    conflict: () => LeaseConflictError,
  ): Promise<number> {
    const subject = `$KV.${this.bucket}.${assertKey(key)}`;
    for (let attempt = 1; ; attempt++) {
      const last = (await this.jsm.streams.info(this.stream)).state.last_seq;
      // nats-server 2.9 reads an expected last sequence of 0 as none: an empty bucket gets a first record.
      if (last === 0) {
        await this.js
          .publish(`$KV.${this.bucket}.${FIRST_KEY}`, codec.encode('{}'), { expect: { lastSequence: 0 } })
          .catch((err: unknown) => {
            if (!isWrongRevision(err)) throw err; // another writer's came first
          });
        continue;
      }
      const entry = await this.kv.get(key);
      const live = entry?.operation === 'PUT';
      if (expected === 'free' ? live : entry?.revision !== expected) throw conflict();
      const hdrs = data ? undefined : headers();
      hdrs?.set(KV_OPERATION, 'DEL');
      try {
        const ack = await this.js.publish(subject, data ?? new Uint8Array(), {
          headers: hdrs,
          expect: { lastSequence: last, lastSubjectSequence: entry?.revision ?? 0 },
        });
        return ack.seq;
      } catch (err) {
        if (!isWrongRevision(err)) throw err;
        if (attempt >= WRITE_ATTEMPTS) {
          throw new LeaseStoreError(
            `lease key '${key}' (${this.bucket}): other writes landed between read and write ${attempt} times in a row`,
            key,
            { cause: err },
          );
        }
      }
    }
  }

  list(prefix: string): Promise<LeaseEntry[]> {
    return this.bounded(prefix, `list lease keys under '${prefix}'`, async () => {
      // The one hand-written call: not kv.keys, which makes an ordered push consumer per call that the server keeps
      // for 5 minutes after it is stopped (its inactive_threshold), while list runs every presence heartbeat. The
      // stream leader names the keys (tombstoned ones too: read() drops them); each is then read with kv.get.
      const base = `$KV.${this.bucket}.`;
      const info = await this.jsm.streams.info(this.stream, { subjects_filter: `${base}${assertKey(prefix)}.>` });
      const live: LeaseEntry[] = [];
      for (const subject of Object.keys(info.state.subjects ?? {}).sort()) {
        try {
          const entry = await this.read(subject.slice(base.length));
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
