// The record (DESIGN §14): what a core taking over a Proxmox cluster needs, in replicated JetStream storage (R3 on a
// three-server cluster). Entities (protocol/record-schemas.ts) are kept in a KV bucket in the standard layout
// (stream KV_<bucket> on `$KV.<bucket>.>`, one message per key, deletes as `KV-Operation` markers), written through
// the JetStream stream API as adapters/nats/lease-store.ts does (@nats-io/kv is not installed). Audit batches are
// appended to their own stream, every one kept, on `overseer.record.audit.<cluster>` (namespaced like every subject).
//
// Fencing: a put carries the revision its writer last saw (Nats-Expected-Last-Subject-Sequence) and an audit append
// the last sequence of its cluster's subject, so the stream leader refuses a write from a core that missed one — a
// deposed owner's write fails (RecordConflictError). Only nats-server 2.9 features; every call is bounded in time;
// a value read that is not a record value is a RecordValueError naming its key, never a crash.
import {
  DeliverPolicy,
  DiscardPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { nanos } from '@nats-io/transport-node';
import {
  type AuditBatch,
  decodeRecordValue,
  type RecordValue,
  RecordValueError,
  recordKeyOf,
  recordPrefix,
} from '../../protocol';
import { type Clock, SystemClock } from '../clock';
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
  clock?: Clock;
}

const KV_OPERATION = 'KV-Operation';
const TOMBSTONES = new Set(['DEL', 'PURGE']);
const encoder = new TextEncoder();
const PREFIX = /^([-/_=A-Za-z0-9]+\.)*$/;

export class JetStreamRecordStore implements RecordStore {
  readonly bucket: string;
  readonly stream: string;
  readonly auditStream: string;
  private readonly calls: RecordStoreCalls;
  private readonly audit: RecordAuditStream;

  private constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly opts: JetStreamRecordStoreOptions,
  ) {
    this.bucket = recordBucketName(opts.namespace);
    this.stream = `KV_${this.bucket}`;
    this.calls = new RecordStoreCalls(opts.clock ?? new SystemClock(), opts.timeoutMs ?? 5_000, this.bucket);
    this.audit = new RecordAuditStream({
      nc,
      js,
      jsm,
      calls: this.calls,
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
    const timeout = opts.timeoutMs ?? 5_000;
    const store = new JetStreamRecordStore(
      nc,
      jetstream(nc, { timeout }),
      await jetstreamManager(nc, { timeout, checkAPI: false }),
      opts,
    );
    // Placing R3 streams takes the meta leader a while: opening has its own, longer bound.
    const openTimeout = Math.max(timeout, opts.openTimeoutMs ?? 15_000);
    const admin = await jetstreamManager(nc, { timeout: openTimeout, checkAPI: false });
    await store.calls.bounded('', 'open the record', openTimeout, async () => {
      await ensureRecordStream(admin, store.kvConfig(replicas));
      await ensureRecordStream(admin, store.audit.config(replicas));
    });
    return store;
  }

  private kvConfig(replicas: number): Partial<StreamConfig> & { name: string } {
    return {
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
  }

  private subject(key: string): string {
    return `$KV.${this.bucket}.${key}`;
  }

  private filter(prefix: string | undefined): string {
    const p = prefix ?? '';
    if (!PREFIX.test(p)) {
      throw new RecordStoreError(`invalid record key prefix '${p}': key tokens each followed by '.'`, p);
    }
    return `$KV.${this.bucket}.${p}>`;
  }

  private keyOf(subject: string): string {
    return subject.slice(`$KV.${this.bucket}.`.length);
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
      const data = this.encode(key, value);
      // What is written is what any core can read back.
      decodeRecordValue(key, data);
      if (expected !== 'new') return this.calls.cas(key, expected, () => this.write(key, data, expected));
      return this.calls.cas(key, 0, async () => {
        try {
          return await this.write(key, data, 0);
        } catch (err) {
          // A key whose last message is a delete marker is new again: written over the marker's revision.
          const last = await this.jsm.streams.getMessage(this.stream, { last_by_subj: this.subject(key) });
          const op = last?.header?.get(KV_OPERATION);
          if (!last || !op || !TOMBSTONES.has(op)) throw err;
          return this.write(key, data, last.seq);
        }
      });
    });
  }

  private async write(key: string, data: Uint8Array, revision: number): Promise<number> {
    const ack = await this.js.publish(this.subject(key), data, {
      expect: { lastSubjectSequence: revision, streamName: this.stream },
    });
    return ack.seq;
  }

  get(key: string): Promise<RecordEntry | null> {
    return this.calls.bounded(key, `read record key '${key}'`, undefined, async () => {
      // From the stream leader (not a direct get): never older than an acknowledged write.
      const msg = await this.jsm.streams.getMessage(this.stream, { last_by_subj: this.subject(key) });
      if (!msg) return null;
      const op = msg.header?.get(KV_OPERATION);
      if (op && TOMBSTONES.has(op)) return null;
      return { key, revision: msg.seq, value: decodeRecordValue(key, msg.data, msg.seq) };
    });
  }

  /** Every key's last message under `filter`, as the stream held them when the scan began. */
  private async scan(filter: string, headersOnly: boolean, onMsg: (m: JsMsg) => void): Promise<void> {
    const consumer = await this.js.consumers.get(this.stream, {
      filter_subjects: filter,
      deliver_policy: DeliverPolicy.LastPerSubject,
      ...(headersOnly ? { headers_only: true } : {}),
    });
    try {
      const pending = (await consumer.info(true)).num_pending;
      if (pending === 0) return;
      const messages = await consumer.consume({ max_messages: Math.min(pending, 512) });
      try {
        let seen = 0;
        for await (const m of messages) {
          onMsg(m);
          if (++seen >= pending || m.info.pending === 0) break;
        }
      } finally {
        messages.stop();
      }
    } finally {
      if (!this.nc.isClosed()) await consumer.delete().catch(() => false);
    }
  }

  keys(prefix?: string): Promise<string[]> {
    const filter = this.filter(prefix);
    return this.calls.bounded(prefix ?? '', `list record keys under '${prefix ?? ''}'`, this.scanTimeout, async () => {
      const keys: string[] = [];
      await this.scan(filter, true, (m) => {
        const op = m.headers?.get(KV_OPERATION);
        if (!op || !TOMBSTONES.has(op)) keys.push(this.keyOf(m.subject));
      });
      return keys.sort();
    });
  }

  loadCluster(cluster: string): Promise<ClusterRecord> {
    const prefix = recordPrefix(cluster);
    const filter = this.filter(prefix);
    return this.calls.bounded(prefix, `load the record of cluster '${cluster}'`, this.scanTimeout, async () => {
      const out: ClusterRecord = { entries: [], invalid: [], revision: 0 };
      await this.scan(filter, false, (m) => {
        out.revision = Math.max(out.revision, m.seq);
        const event = this.toEvent(m);
        if (event.type === 'put') out.entries.push({ key: event.key, revision: event.revision, value: event.value });
        else if (event.type === 'invalid')
          out.invalid.push({ key: event.key, revision: event.revision, error: event.error });
      });
      out.entries.sort((a, b) => a.revision - b.revision);
      return out;
    });
  }

  private get scanTimeout(): number {
    return this.opts.scanTimeoutMs ?? 30_000;
  }

  private toEvent(m: JsMsg): RecordWatchEvent {
    const key = this.keyOf(m.subject);
    const op = m.headers?.get(KV_OPERATION);
    if (op && TOMBSTONES.has(op)) return { type: 'delete', key, revision: m.seq };
    try {
      return { type: 'put', key, revision: m.seq, value: decodeRecordValue(key, m.data, m.seq) };
    } catch (err) {
      if (!(err instanceof RecordValueError)) throw err;
      return { type: 'invalid', key, revision: m.seq, error: err };
    }
  }

  async watch(
    opts: RecordWatchOptions,
    onEntry: (event: RecordWatchEvent) => void | Promise<void>,
  ): Promise<RecordWatch> {
    const filter = this.filter(opts.prefix);
    const { consumer, messages, initial } = await this.calls.bounded(
      opts.prefix ?? '',
      'watch the record',
      undefined,
      async () => {
        const consumer = await this.js.consumers.get(this.stream, {
          filter_subjects: filter,
          deliver_policy: opts.fromStart ? DeliverPolicy.LastPerSubject : DeliverPolicy.New,
        });
        const initial = opts.fromStart ? (await consumer.info(true)).num_pending : 0;
        const messages = await consumer.consume({ max_messages: 256 });
        return { consumer, messages, initial };
      },
    );
    return follow({
      nc: this.nc,
      consumer,
      messages,
      initial,
      toEvent: (m) => this.toEvent(m),
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
