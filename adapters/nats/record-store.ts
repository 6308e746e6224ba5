// The record (DESIGN §14): what a core taking over a Proxmox cluster needs, in replicated JetStream storage (R3 on a
// three-server cluster). Entities (protocol/record-schemas.ts) are kept in a KV bucket through @nats-io/kv (stream
// KV_<bucket> on `$KV.<bucket>.>`, one message kept per key, deletes as `KV-Operation: DEL` markers), opened as
// adapters/nats/lease-store.ts opens its own: the library's bucket defaults for nats-server 2.9, reads from the stream
// leader. Audit batches are appended to their own stream, every one kept, on `overseer.record.audit.<cluster>`
// (namespaced like every subject): a plain stream, on the JetStream API (record-audit-stream.ts).
//
// Fencing: a put carries the revision its writer last saw (kv.update; kv.create expects none, or a delete marker's)
// and an audit append the last sequence of its cluster's subject, so the stream leader refuses a write from a core
// that missed one — a deposed owner's write fails (RecordConflictError). Only nats-server 2.9 features; every call is
// bounded in time; a value read that is not a record value is a RecordValueError naming its key, never a crash.
//
// Reads go to the stream leader: the bucket is opened with `allow_direct: false`, so kv.get asks STREAM.MSG.GET,
// never a replica that may lag, and a read is never older than an acknowledged write. Hand-written still: the
// bucket's replicas check on open (ensureBucket), the key listing (keys: not kv.keys, which leaves a server consumer
// per call for 5 minutes, see lease-store.ts list), and asking whether a watch has anything to catch up (anyUnder).
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type KV, type KvEntry, Kvm, type KvWatchEntry, KvWatchInclude } from '@nats-io/kv';
import type { NatsConnection, QueuedIterator } from '@nats-io/transport-node';
import {
  type AuditBatch,
  decodeRecordValue,
  type RecordValue,
  RecordValueError,
  recordKeyOf,
  recordPrefix,
} from '../../protocol';
import { type Clock, SystemClock } from '../clock';
import { ensureKvBucket } from './kv-bucket';
import { assertNamespace } from './namespace';
import { type AuditRecordItem, ensureRecordStream, RecordAuditStream } from './record-audit-stream';
import { RecordStoreCalls, RecordStoreError } from './record-store-calls';
import { follow, type RecordWatch } from './record-watch';

export type { AuditRecordItem } from './record-audit-stream';
export {
  RECORD_AUDIT_STREAM,
  RECORD_AUDIT_SUBJECT,
  recordAuditStreamName,
  recordAuditSubject,
} from './record-audit-stream';
export { RecordConflictError, RecordStoreError, RecordStoreTimeoutError } from './record-store-calls';
export type { RecordWatch } from './record-watch';

/** The record bucket of an installation without a namespace. */
export const RECORD_BUCKET = 'OVERSEER_RECORD';

/** OVERSEER_RECORD, or OVERSEER_RECORD_<ns> for an installation with a namespace. */
export const recordBucketName = (namespace?: string): string =>
  namespace ? `${RECORD_BUCKET}_${assertNamespace(namespace)}` : RECORD_BUCKET;

export interface RecordEntry {
  key: string;
  /** The stream sequence of the key's last write: what a put over it expects. */
  revision: number;
  value: RecordValue;
}

/** A key whose last message is not a record value. */
export interface InvalidRecord {
  key: string;
  revision: number;
  error: RecordValueError;
}

export type RecordWatchEvent =
  | ({ type: 'put' } & RecordEntry)
  | { type: 'delete'; key: string; revision: number }
  | ({ type: 'invalid' } & InvalidRecord);

export interface RecordWatchOptions {
  /** true: every key's latest value first, then changes; false: changes from now on only. */
  fromStart: boolean;
  /** Only keys under this prefix (ending in '.', e.g. recordPrefix(cluster)); default every key. */
  prefix?: string | undefined;
}

export interface ClusterRecord {
  entries: RecordEntry[];
  invalid: InvalidRecord[];
  /** The highest revision among them (0 for none). */
  revision: number;
}

/** The record: compare-and-set entity values and fenced audit appends. Every call is bounded in time. */
export interface RecordStore {
  readonly bucket: string;
  readonly auditStream: string;
  /** Writes `value` under `key` over `expected` ('new': the key has no live value). Resolves with the new revision. */
  put(key: string, value: RecordValue, expected: number | 'new'): Promise<number>;
  /** The key's live value, or null (never written, or deleted). RecordValueError when it is not a record value. */
  get(key: string): Promise<RecordEntry | null>;
  /** The live keys under `prefix` (ending in '.'; default every key), sorted. */
  keys(prefix?: string): Promise<string[]>;
  /** Every live value of `cluster`, with the keys whose value is not a record value reported apart. */
  loadCluster(cluster: string): Promise<ClusterRecord>;
  /** Hands every change (and, fromStart, every key's latest value first) to onEntry, in order, one at a time. */
  watch(opts: RecordWatchOptions, onEntry: (event: RecordWatchEvent) => void | Promise<void>): Promise<RecordWatch>;
  /** Appends a batch to `cluster`'s audit record if its last sequence is `expectedLastSeq` (0: none yet). */
  appendAudit(cluster: string, batch: AuditBatch, expectedLastSeq: number): Promise<number>;
  /** The last sequence of `cluster`'s audit record (0: none). */
  lastAuditSeq(cluster: string): Promise<number>;
  /** `cluster`'s audit batches from sequence `fromSeq` on, at most `limit` (default 1000), oldest first. */
  readAudit(cluster: string, fromSeq: number, limit?: number): Promise<AuditRecordItem[]>;
}

export interface JetStreamRecordStoreOptions {
  /** The installation's namespace (the bus's `namespace`); none for the embedded default. */
  namespace?: string | undefined;
  /** Copies of the bucket and the audit stream: 3 on a three-server cluster, 1 on a single server (default). */
  replicas?: number;
  /** Bound on every call; default 5 000 ms. */
  timeoutMs?: number;
  /** Bound on reading many keys (keys, loadCluster, readAudit); default 30 000 ms. */
  scanTimeoutMs?: number;
  /** Bound on opening (creating) the bucket and the stream; default 15 000 ms. */
  openTimeoutMs?: number;
  /**
   * Bound on making the consumer a read of many keys or batches uses (loadCluster, readAudit); default 2 000 ms, at most
   * timeoutMs. Without one in time, the read goes on from the stream leader without a consumer.
   */
  consumerTimeoutMs?: number;
  clock?: Clock;
}

const encoder = new TextEncoder();
const PREFIX = /^([-/_=A-Za-z0-9]+\.)*$/;
/** A key @nats-io/kv can address (its own check also allows empty tokens); other subjects are no record keys. */
const KV_KEY = /^[-/_=A-Za-z0-9]+(\.[-/_=A-Za-z0-9]+)*$/;
/** Reads of a key listing in flight at once. */
const GETS_AT_ONCE = 64;

export class JetStreamRecordStore implements RecordStore {
  readonly bucket: string;
  readonly stream: string;
  readonly auditStream: string;
  private readonly audit: RecordAuditStream;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly jsm: JetStreamManager,
    private readonly kv: KV,
    /** The bucket again, on the handle whose calls are bounded by the consumer timeout: for watches. */
    private readonly watcher: KV,
    private readonly calls: RecordStoreCalls,
    private readonly opts: JetStreamRecordStoreOptions,
    js: JetStreamClient,
    consumers: JetStreamClient,
  ) {
    this.bucket = recordBucketName(opts.namespace);
    this.stream = `KV_${this.bucket}`;
    this.audit = new RecordAuditStream({
      nc,
      js,
      consumers,
      jsm,
      calls,
      namespace: opts.namespace,
      scanTimeoutMs: this.scanTimeout,
    });
    this.auditStream = this.audit.name;
  }

  /** Opens (creating when missing) the bucket and the audit stream of `namespace` with `replicas` copies. */
  static async open(nc: NatsConnection, opts: JetStreamRecordStoreOptions = {}): Promise<JetStreamRecordStore> {
    const replicas = opts.replicas ?? 1;
    if (!Number.isInteger(replicas) || replicas < 1 || replicas > 5) {
      throw new RecordStoreError(`invalid replicas ${replicas} for the record: 1 to 5`, '');
    }
    const bucket = recordBucketName(opts.namespace);
    const timeout = opts.timeoutMs ?? 5_000;
    const calls = new RecordStoreCalls(opts.clock ?? new SystemClock(), timeout, bucket);
    // The handle for the calls: their timeout, and reads from the stream leader (see the top of the file).
    const js = jetstream(nc, { timeout, checkAPI: false });
    const kv = await new Kvm(js).open(bucket, { allow_direct: false });
    // Making a consumer is the meta leader's work: while it moves (a server stopped) no consumer comes, yet the
    // stream leader answers reads. A read waits this long for one, not a whole call's timeout, before it reads
    // without (2 s: @nats-io/kv's default timeout for a bucket's calls).
    const consumers = jetstream(nc, { timeout: Math.min(timeout, opts.consumerTimeoutMs ?? 2_000), checkAPI: false });
    const watcher = await new Kvm(consumers).open(bucket, { allow_direct: false });
    const jsm = await js.jetstreamManager(false);
    const store = new JetStreamRecordStore(nc, jsm, kv, watcher, calls, opts, js, consumers);
    // Placing R3 streams takes the meta leader a while: opening has its own, longer bound.
    const openTimeout = Math.max(timeout, opts.openTimeoutMs ?? 15_000);
    const admin = new Kvm(jetstream(nc, { timeout: Math.max(timeout, openTimeout / 4), checkAPI: false }));
    let gaveUp = false;
    await calls
      .bounded('', 'open the record', openTimeout, async () => {
        await ensureKvBucket(
          admin,
          bucket,
          replicas,
          () => gaveUp,
          (message) => new RecordStoreError(message, ''),
        );
        const jsm = await jetstreamManager(nc, { timeout: openTimeout, checkAPI: false });
        await ensureRecordStream(jsm, store.audit.config(replicas));
      })
      .finally(() => {
        gaveUp = true;
      });
    return store;
  }

  private filter(prefix: string | undefined): string {
    const p = prefix ?? '';
    if (!PREFIX.test(p)) {
      throw new RecordStoreError(`invalid record key prefix '${p}': key tokens each followed by '.'`, p);
    }
    return `$KV.${this.bucket}.${p}>`;
  }

  private encode(where: string, value: unknown): Uint8Array {
    const data = encoder.encode(JSON.stringify(value));
    const max = this.nc.info?.max_payload;
    if (max !== undefined && data.length > max) {
      throw new RecordStoreError(`${where}: the value is ${data.length} bytes, over the server's ${max}`, where);
    }
    return data;
  }

  put(key: string, value: RecordValue, expected: number | 'new'): Promise<number> {
    return this.calls.bounded(key, `put record key '${key}'`, undefined, async () => {
      if (recordKeyOf(value) !== key) {
        throw new RecordValueError(
          `a ${value.kind} kept under '${recordKeyOf(value)}' cannot be put under '${key}'`,
          key,
        );
      }
      if (expected !== 'new' && (!Number.isSafeInteger(expected) || expected < 1)) {
        throw new RangeError(`put '${key}': the expected revision (${expected}) is not 'new' or a whole number >= 1`);
      }
      const data = this.encode(key, value);
      // What is written is what any core can read back.
      decodeRecordValue(key, data);
      // kv.create writes where the key has no message, or over its delete marker by the marker's revision.
      if (expected === 'new') return this.calls.cas(key, 0, () => this.kv.create(key, data));
      return this.calls.cas(key, expected, () => this.kv.update(key, data, expected));
    });
  }

  get(key: string): Promise<RecordEntry | null> {
    return this.calls.bounded(key, `read record key '${key}'`, undefined, async () => {
      const entry = await this.kv.get(key);
      const event = entry && this.toEvent(entry);
      if (!event || event.type === 'delete') return null;
      if (event.type === 'invalid') throw event.error;
      return { key, revision: event.revision, value: event.value };
    });
  }

  /** Every key under `filter` with a message, deleted ones too, as the stream leader names them, sorted. */
  private async listedKeys(filter: string): Promise<string[]> {
    const base = `$KV.${this.bucket}.`;
    const info = await this.jsm.streams.info(this.stream, { subjects_filter: filter });
    // A subject the library cannot name as a key (written around the store) is no record key either.
    return Object.keys(info.state.subjects ?? {})
      .map((subject) => subject.slice(base.length))
      .filter((key) => KV_KEY.test(key))
      .sort();
  }

  /** Every key under `filter`, deleted ones too, with its last entry: named by the stream leader, read from it. */
  private async lastEntries(filter: string): Promise<KvEntry[]> {
    const keys = await this.listedKeys(filter);
    const last: KvEntry[] = [];
    for (let i = 0; i < keys.length; i += GETS_AT_ONCE) {
      const entries = await Promise.all(keys.slice(i, i + GETS_AT_ONCE).map((key) => this.kv.get(key)));
      for (const entry of entries) if (entry) last.push(entry);
    }
    return last;
  }

  /** The live keys under `filter`, sorted (see keys). */
  private async liveKeys(filter: string): Promise<string[]> {
    return (await this.lastEntries(filter)).filter((e) => e.operation === 'PUT').map((e) => e.key);
  }

  // async: a bad prefix or cluster name rejects, like every other failure of the call.
  async keys(prefix?: string): Promise<string[]> {
    const filter = this.filter(prefix);
    // Not kv.keys (a server consumer per call, left for 5 minutes): the stream leader lists the subjects; each is
    // read to leave out the deleted ones.
    return this.calls.bounded(prefix ?? '', `list record keys under '${prefix ?? ''}'`, this.scanTimeout, () =>
      this.liveKeys(filter),
    );
  }

  /** Whether the stream has any message under `filter` (a wildcard last_by_subj, which 2.9 answers), from its leader. */
  private async anyUnder(filter: string): Promise<boolean> {
    return (await this.jsm.streams.getMessage(this.stream, { last_by_subj: filter })) !== null;
  }

  async loadCluster(cluster: string): Promise<ClusterRecord> {
    const prefix = recordPrefix(cluster);
    const filter = this.filter(prefix);
    let entries: QueuedIterator<KvWatchEntry> | undefined;
    return this.calls
      .bounded(prefix, `load the record of cluster '${cluster}'`, this.scanTimeout, async () => {
        let out: ClusterRecord = { entries: [], invalid: [], revision: 0 };
        const add = (entry: KvEntry) => {
          out.revision = Math.max(out.revision, entry.revision);
          const event = this.toEvent(entry);
          if (event.type === 'put') out.entries.push({ key: event.key, revision: event.revision, value: event.value });
          else if (event.type === 'invalid') {
            out.invalid.push({ key: event.key, revision: event.revision, error: event.error });
          }
        };
        const done = () => {
          out.entries.sort((a, b) => a.revision - b.revision);
          return out;
        };
        const fromLeader = async () => {
          for (const entry of await this.lastEntries(filter)) add(entry);
          return done();
        };
        if (!(await this.anyUnder(filter))) return out;
        // Every key's last value through one watch, stopped once caught up (record-watch.ts). Its consumer stays on
        // the server for 5 minutes; loadCluster runs once per take-over, and reads the values ~3 times faster than
        // a kv.get per key would (1 000 keys on a three-server cluster). Without a consumer, the keys are read from
        // the stream leader, one get each (seen: a new owner's watch unanswered for 11–50 s while these took ms).
        return this.calls.consumerOr(
          async () => {
            entries = await this.watcher.watch({ key: `${prefix}>`, include: KvWatchInclude.LastValue });
            return entries;
          },
          async (watched) => {
            const seen = new Set<string>();
            for await (const entry of watched) {
              add(entry);
              seen.add(entry.key);
              if (!entry.isUpdate && entry.delta !== 0) continue;
              // The watch can say it caught up before it has (seen once in CI under load: one key of four). Every key
              // the stream leader lists must have come, or the record is read from the leader instead: a new owner
              // never takes over part of a record.
              if ((await this.listedKeys(filter)).every((key) => seen.has(key))) return done();
              out = { entries: [], invalid: [], revision: 0 };
              return fromLeader();
            }
            throw new RecordStoreError(`the watch of ${this.bucket} ended before it caught up`, prefix);
          },
          () => fromLeader(),
        );
      })
      .finally(() => entries?.stop());
  }

  private get scanTimeout(): number {
    return this.opts.scanTimeoutMs ?? 30_000;
  }

  private toEvent(entry: KvEntry): RecordWatchEvent {
    const { key, revision } = entry;
    if (entry.operation !== 'PUT') return { type: 'delete', key, revision };
    try {
      return { type: 'put', key, revision, value: decodeRecordValue(key, entry.value, revision) };
    } catch (err) {
      if (!(err instanceof RecordValueError)) throw err;
      return { type: 'invalid', key, revision, error: err };
    }
  }

  async watch(
    opts: RecordWatchOptions,
    onEntry: (event: RecordWatchEvent) => void | Promise<void>,
  ): Promise<RecordWatch> {
    const filter = this.filter(opts.prefix);
    const { entries, initial } = await this.calls.bounded(
      opts.prefix ?? '',
      'watch the record',
      undefined,
      async () => {
        // The library's watch says it has caught up only on an entry (record-watch.ts): when no key is under the
        // prefix, none comes. So the stream leader is asked first whether there is one; a key written between that
        // answer and the watch's start is handed over after caughtUp.
        const initial = opts.fromStart && (await this.anyUnder(filter));
        const entries = await this.kv.watch({
          key: `${opts.prefix ?? ''}>`,
          include: opts.fromStart ? KvWatchInclude.LastValue : KvWatchInclude.UpdatesOnly,
        });
        return { entries, initial };
      },
    );
    return follow({
      entries,
      initial,
      toEvent: (e) => this.toEvent(e),
      onEntry,
      what: this.bucket,
      key: opts.prefix ?? '',
    });
  }

  appendAudit(cluster: string, batch: AuditBatch, expectedLastSeq: number): Promise<number> {
    return this.audit.append(cluster, batch, expectedLastSeq, (b) => this.encode(`audit record of '${cluster}'`, b));
  }

  lastAuditSeq(cluster: string): Promise<number> {
    return this.audit.last(cluster);
  }

  readAudit(cluster: string, fromSeq: number, limit = 1000): Promise<AuditRecordItem[]> {
    return this.audit.read(cluster, fromSeq, limit);
  }
}

/** Opens the JetStream record (see JetStreamRecordStore.open). */
export function openRecordStore(nc: NatsConnection, opts: JetStreamRecordStoreOptions = {}): Promise<RecordStore> {
  return JetStreamRecordStore.open(nc, opts);
}
