// The audit part of the record (adapters/nats/record-store.ts): one stream keeps every audit batch, nothing removed,
// on `overseer[.<ns>].record.audit.<cluster>`. An append carries the last sequence its writer saw on its cluster's
// subject (Nats-Expected-Last-Subject-Sequence), so the stream leader refuses one from a core that missed a batch:
// a deposed owner's append fails (RecordConflictError). A message that is not a batch is reported by its sequence.
import {
  type Consumer,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
} from '@nats-io/jetstream';
import { type NatsConnection, nanos } from '@nats-io/transport-node';
import { type AuditBatch, clusterToken, parseAuditBatch, RecordValueError, SUBJECT_ROOT } from '../../protocol';
import { assertNamespace, toNamespace } from './namespace';
import { type RecordStoreCalls, RecordStoreError } from './record-store-calls';

/** The record's audit stream of an installation without a namespace. */
export const RECORD_AUDIT_STREAM = 'OVERSEER_RECORD_AUDIT';
/** `overseer.record.audit.<cluster>`: one subject per Proxmox cluster. */
export const RECORD_AUDIT_SUBJECT = `${SUBJECT_ROOT}.record.audit`;

/** OVERSEER_RECORD_AUDIT, or OVERSEER_RECORD_AUDIT_<ns>. */
export const recordAuditStreamName = (namespace?: string): string =>
  namespace ? `${RECORD_AUDIT_STREAM}_${assertNamespace(namespace)}` : RECORD_AUDIT_STREAM;
/** `overseer[.<ns>].record.audit.<cluster token>`. */
export const recordAuditSubject = (cluster: string, namespace?: string): string =>
  toNamespace(`${RECORD_AUDIT_SUBJECT}.${clusterToken(cluster)}`, namespace);

export type AuditRecordItem = { seq: number; batch: AuditBatch } | { seq: number; error: RecordValueError };

export interface RecordAuditStreamDeps {
  nc: NatsConnection;
  js: JetStreamClient;
  /** The handle a read makes its consumer with: its calls bounded by the store's consumer timeout. */
  consumers: JetStreamClient;
  jsm: JetStreamManager;
  calls: RecordStoreCalls;
  namespace: string | undefined;
  /** Bound on reading many batches. */
  scanTimeoutMs: number;
}

export class RecordAuditStream {
  readonly name: string;

  constructor(private readonly deps: RecordAuditStreamDeps) {
    this.name = recordAuditStreamName(deps.namespace);
  }

  config(replicas: number): Partial<StreamConfig> & { name: string } {
    return {
      name: this.name,
      subjects: [toNamespace(`${RECORD_AUDIT_SUBJECT}.>`, this.deps.namespace)],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      // Every batch is kept: no limits, nothing removed.
      discard: DiscardPolicy.New,
      num_replicas: replicas,
      max_msgs: -1,
      max_bytes: -1,
      max_age: 0,
      duplicate_window: nanos(120_000),
      deny_delete: true,
      deny_purge: true,
    };
  }

  append(cluster: string, batch: AuditBatch, expectedLastSeq: number, encode: (b: AuditBatch) => Uint8Array) {
    const { calls, js, namespace } = this.deps;
    const subject = recordAuditSubject(cluster, namespace);
    return calls.bounded(subject, `append to the audit record of '${cluster}'`, undefined, async () => {
      if (!Number.isSafeInteger(expectedLastSeq) || expectedLastSeq < 0) {
        throw new RangeError(`appendAudit: the expected last sequence (${expectedLastSeq}) is not a whole number >= 0`);
      }
      const checked = parseAuditBatch(subject, batch);
      if (checked.cluster !== cluster) {
        throw new RecordValueError(`an audit batch of cluster '${checked.cluster}' cannot go to '${cluster}'`, subject);
      }
      const data = encode(checked);
      return calls.cas(subject, expectedLastSeq, async () => {
        const ack = await js.publish(subject, data, {
          expect: { lastSubjectSequence: expectedLastSeq, streamName: this.name },
        });
        return ack.seq;
      });
    });
  }

  last(cluster: string): Promise<number> {
    const { calls, jsm, namespace } = this.deps;
    const subject = recordAuditSubject(cluster, namespace);
    return calls.bounded(subject, `read the audit record of '${cluster}'`, undefined, async () => {
      const msg = await jsm.streams.getMessage(this.name, { last_by_subj: subject });
      return msg?.seq ?? 0;
    });
  }

  read(cluster: string, fromSeq: number, limit: number): Promise<AuditRecordItem[]> {
    const { calls, consumers, namespace, scanTimeoutMs } = this.deps;
    const subject = recordAuditSubject(cluster, namespace);
    return calls.bounded(subject, `read the audit record of '${cluster}'`, scanTimeoutMs, async () => {
      if (!Number.isSafeInteger(fromSeq) || fromSeq < 1 || !Number.isSafeInteger(limit) || limit < 1) {
        throw new RangeError(`readAudit: fromSeq (${fromSeq}) and limit (${limit}) must be whole numbers >= 1`);
      }
      return calls.consumerOr(
        () => consumers.consumers.get(this.name, { filter_subjects: subject, opt_start_seq: fromSeq }),
        (consumer) => this.readWith(consumer, cluster, subject, limit),
        // Each batch from the stream leader, one get each (as the record store reads a cluster's keys then).
        () => this.readEach(cluster, subject, fromSeq, limit),
      );
    });
  }

  /** `read` through an ordered consumer from the first sequence wanted on (deleted once read). */
  private async readWith(consumer: Consumer, cluster: string, subject: string, limit: number) {
    const items: AuditRecordItem[] = [];
    try {
      const pending = Math.min((await consumer.info(true)).num_pending, limit);
      if (pending === 0) return items;
      const messages = await consumer.consume({ max_messages: Math.min(pending, 256) });
      try {
        for await (const m of messages) {
          items.push(item(cluster, subject, m));
          if (items.length >= pending || m.info.pending === 0) break;
        }
      } finally {
        messages.stop();
      }
      return items;
    } finally {
      if (!this.deps.nc.isClosed()) await consumer.delete().catch(() => false);
    }
  }

  /** `read` without a consumer: each next batch on the subject from the stream leader (`next_by_subj`, 2.9 on). */
  private async readEach(cluster: string, subject: string, fromSeq: number, limit: number) {
    const items: AuditRecordItem[] = [];
    for (let seq = fromSeq; items.length < limit; ) {
      // The library's type lacks the STREAM.MSG.GET request's `next_by_subj`, which nats-server answers since 2.9.
      const query = { seq, next_by_subj: subject } as unknown as { seq: number };
      const m = await this.deps.jsm.streams.getMessage(this.name, query);
      if (!m) break;
      items.push(item(cluster, subject, m));
      seq = m.seq + 1;
    }
    return items;
  }
}

function item(cluster: string, subject: string, m: { seq: number; data: Uint8Array }): AuditRecordItem {
  try {
    let raw: unknown;
    try {
      raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(m.data));
    } catch (err) {
      throw new RecordValueError(`audit batch at '${subject}' (${m.seq}) is not UTF-8 JSON`, subject, m.seq, {
        cause: err,
      });
    }
    const batch = parseAuditBatch(subject, raw, m.seq);
    if (batch.cluster !== cluster) {
      throw new RecordValueError(
        `audit batch at '${subject}' (${m.seq}) is of cluster '${batch.cluster}'`,
        subject,
        m.seq,
      );
    }
    return { seq: m.seq, batch };
  } catch (err) {
    if (!(err instanceof RecordValueError)) throw err;
    return { seq: m.seq, error: err };
  }
}

/** Creates the stream, or checks an existing one has the replicas asked for. */
export async function ensureRecordStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<void> {
  try {
    const info = await jsm.streams.info(config.name);
    if (info.config.num_replicas !== config.num_replicas) {
      throw new RecordStoreError(
        `stream ${config.name} has ${info.config.num_replicas} replicas, expected ${config.num_replicas}`,
        '',
      );
    }
    return;
  } catch (err) {
    if (!(err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound)) throw err;
  }
  try {
    await jsm.streams.add(config);
  } catch (err) {
    // Another core created it at the same moment: the same config is accepted, another is reported next time.
    await jsm.streams.info(config.name).catch(() => Promise.reject(err));
  }
}
