// The record shipper (DESIGN §14, issue 15): what the owner of a Proxmox cluster runs to keep the record (JetStream)
// up with its SQLite. TEMP triggers on the runtime's own connection (state/record-dirty.ts) mark every entity a
// local commit changed; replicate() exports each (actors/record-entities.ts) and puts it with compare-and-set over
// the revision this database holds, and appends the audit rows written since the last batch with the expected last
// sequence (actors/record-audit.ts). fence() runs before every write: a core whose lease is not valid never writes.
//
// - One round at a time: a replicate() while a round is in flight waits for the next round, which starts after it
//   and so covers every commit made before the call. Within a round each key is written once (serialised per key).
// - A refused compare-and-set means another core owns the record now: shipping stops for good and every
//   replicate() rejects with RecordOwnershipLostError. A write whose answer was lost (timeout) may have landed: if
//   the retry is refused, the record's value is read back, and one that is the value sent is taken as ours.
// - durable() is what the runtime waits for before an answer leaves or a platform call is made: replicate(),
//   again and again while the record cannot be reached and the lease is still valid.
// - A pump looks for unshipped commits every intervalMs (incidents, completions, labs: changes nobody waits for).
// API tokens live under `_global`, shared by every core: a refused put of one is not a lost cluster; the record's
// version is taken here instead.
import { isDeepStrictEqual } from 'node:util';
import type { Clock, TimerHandle } from '../adapters/clock';
import type { Log } from '../adapters/log';
import {
  RecordConflictError,
  type RecordStore,
  RecordStoreError,
  RecordStoreTimeoutError,
} from '../adapters/nats/record-store';
import { type RecordValue, RecordValueError, silenceCluster, windowCluster } from '../protocol';
import { type DirtyEntity, RecordDirtyTracker, type StateStore } from '../state';
import { AuditShipper } from './record-audit-shipper';
import {
  exportIncident,
  exportLab,
  exportMaintenance,
  exportRequest,
  exportSilence,
  exportToken,
  importEntity,
  incidentCluster,
  markPublished,
  RecordEntityError,
  type RecordExport,
  recordRows,
} from './record-entities';
import {
  isTransientRecordError,
  RecordOwnershipLostError,
  RecordShipError,
  RecordShipperClosedError,
  type RecordShipperStatus,
} from './record-shipper-errors';

export * from './record-shipper-errors';

export interface RecordShipperOptions {
  cluster: string;
  /** This core's id (written in every audit batch). */
  core: string;
  store: StateStore;
  records: RecordStore;
  /** Throws unless this core's lease on the cluster is valid now (LeaseService.fence bound to the cluster). */
  fence: () => void;
  clock: Clock;
  log: Log;
  /** How often the pump looks for unshipped commits; default 50 ms. */
  intervalMs?: number;
  /** Audit rows per batch (at most), and their data's size in bytes (about); defaults 500 and 256 KiB. */
  maxBatchRows?: number;
  maxBatchBytes?: number;
  /** Called once when another core's write was found (the shipper has stopped). */
  onLost?: ((error: RecordOwnershipLostError) => void) | undefined;
}

const RETRY_BASE_MS = 100;
const RETRY_CAP_MS = 2_000;
const backoff = (attempt: number): number => Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempt - 1));
const plain = (v: unknown): unknown => JSON.parse(JSON.stringify(v));

export class RecordShipper {
  readonly cluster: string;
  private readonly tracker: RecordDirtyTracker;
  private readonly intervalMs: number;
  private readonly closing = new AbortController();
  private readonly audit: AuditShipper;
  /** Entities taken by the round in flight. */
  private shipping = 0;
  private inflight: Promise<void> | undefined;
  private next: Promise<void> | undefined;
  private timer: TimerHandle | undefined;
  private lost: RecordOwnershipLostError | undefined;
  private closed = false;
  private outage = false;
  private pumpFailures = 0;
  /** Values whose put got no answer: if a retry is refused, the record may hold exactly this. */
  private readonly uncertain = new Map<string, RecordValue>();
  private readonly counts = { puts: 0, failures: 0 };
  private lastError: string | undefined;
  private readonly warned = new Set<string>();

  /** Installs the triggers on `store`'s connection and starts the pump. Everything committed before is shipped. */
  static start(opts: RecordShipperOptions): RecordShipper {
    return new RecordShipper(opts);
  }

  private constructor(private readonly opts: RecordShipperOptions) {
    this.cluster = opts.cluster;
    this.intervalMs = opts.intervalMs ?? 50;
    this.tracker = new RecordDirtyTracker(opts.store.db).install();
    this.audit = new AuditShipper({ ...opts, lose: (key, cause) => this.loseOwnership(key, cause) });
    this.schedule(this.intervalMs);
  }

  /** Ships every commit made before the call; one round in flight at a time (see the top of the file). */
  replicate(): Promise<void> {
    if (this.lost) return Promise.reject(this.lost);
    if (this.closed) return Promise.reject(new RecordShipperClosedError(this.cluster));
    if (!this.inflight) return this.launch();
    this.next ??= this.inflight.then(
      () => this.afterRound(),
      () => this.afterRound(),
    );
    return this.next;
  }

  /**
   * replicate(), retried while the record cannot be reached and fence() passes. Rejects with the fence's error, a
   * RecordOwnershipLostError, a RecordShipError, or RecordShipperClosedError.
   */
  async durable(): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.replicate();
      } catch (error) {
        if (!isTransientRecordError(error) || this.lost || this.closed) throw error;
        this.opts.fence();
        try {
          await this.opts.clock.sleep(backoff(attempt), this.closing.signal);
        } catch {
          throw this.lost ?? new RecordShipperClosedError(this.cluster);
        }
      }
    }
  }

  status(): RecordShipperStatus {
    const open = !this.closed && this.opts.store.db.open;
    return {
      state: this.lost ? 'lost' : this.closed ? 'closed' : 'shipping',
      pendingEntities: open ? this.tracker.count() + this.shipping : 0,
      pendingAuditRows: open ? this.audit.pending() : 0,
      ...this.counts,
      batches: this.audit.batches,
      lastError: this.lastError,
    };
  }

  /** Stops the pump, waits for the round in flight, drops the triggers. replicate() rejects after. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    if (this.timer !== undefined) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await Promise.allSettled([this.inflight, this.next]);
    if (this.opts.store.db.open) this.tracker.uninstall();
  }

  private afterRound(): Promise<void> {
    this.next = undefined;
    return this.replicate();
  }

  private launch(): Promise<void> {
    const round: Promise<void> = this.round().finally(() => {
      if (this.inflight === round) this.inflight = undefined;
    });
    this.inflight = round;
    return round;
  }

  private async round(): Promise<void> {
    if (this.lost) throw this.lost;
    if (this.closed) throw new RecordShipperClosedError(this.cluster);
    const dirty = this.tracker.take();
    const failures: unknown[] = [];
    const unshipped: DirtyEntity[] = [];
    const fail = (entities: DirtyEntity[]) => (error: unknown) => {
      if (!(error instanceof RecordShipError)) unshipped.push(...entities);
      failures.push(error);
    };
    // Exported now, in one synchronous step (one consistent view); marks naming the same key (a lab's row and its
    // actor's snapshot) make one put.
    const puts = new Map<string, { exp: RecordExport; entities: DirtyEntity[] }>();
    for (const entity of dirty) {
      try {
        const exp = this.exportOf(entity);
        if (!exp?.changed) continue;
        const same = puts.get(exp.key);
        if (same) same.entities.push(entity);
        else puts.set(exp.key, { exp, entities: [entity] });
      } catch (error) {
        fail([entity])(error);
      }
    }
    this.shipping = dirty.length;
    await Promise.all([
      ...[...puts.values()].map(({ exp, entities }) => this.put(exp, entities[0] as DirtyEntity).catch(fail(entities))),
      this.audit.ship().catch(fail([])),
    ]);
    this.shipping = 0;
    if (this.opts.store.db.open) this.tracker.restore(unshipped);
    if (failures.length === 0) return;
    this.counts.failures++;
    const worst =
      failures.find((e) => e instanceof RecordOwnershipLostError) ??
      failures.find((e) => !(e instanceof RecordStoreError) && !(e instanceof RecordShipError)) ??
      failures.find((e) => e instanceof RecordStoreError) ??
      failures[0];
    this.lastError = worst instanceof Error ? worst.message : String(worst);
    throw worst;
  }

  // ---- entities -----------------------------------------------------------------------------------------------------

  /** Puts one export over the revision held; `entity` is what it was exported from (to export it again). */
  private async put(exp: RecordExport, entity: DirtyEntity, again = false): Promise<void> {
    this.opts.fence();
    try {
      const revision = await this.opts.records.put(exp.key, exp.value, exp.expectedRevision);
      this.uncertain.delete(exp.key);
      markPublished(this.opts.store, exp.key, exp.value, revision);
      this.counts.puts++;
    } catch (error) {
      if (error instanceof RecordStoreTimeoutError) this.uncertain.set(exp.key, exp.value);
      const refused = error instanceof RecordStoreError && !(error instanceof RecordConflictError);
      if (error instanceof RecordValueError || refused) {
        if (isTransientRecordError(error)) throw error;
        this.opts.log.error(`record: ${exp.key} cannot be put in the record`, error);
        const why = (error as Error).message;
        throw new RecordShipError(`${exp.key} cannot be put in the record: ${why}`, this.cluster, exp.key, {
          cause: error,
        });
      }
      if (!(error instanceof RecordConflictError)) throw error;
      if (!again && (await this.adoptUncertain(exp.key))) {
        const now = this.exportOf(entity);
        return now?.changed ? this.put(now, entity, true) : undefined;
      }
      if (entity.kind === 'token') return this.takeRecordToken(exp.key);
      throw this.loseOwnership(exp.key, error);
    }
  }

  /** After a refused put that followed a lost answer: the record holding the value sent means it was stored. */
  private async adoptUncertain(key: string): Promise<boolean> {
    const sent = this.uncertain.get(key);
    this.uncertain.delete(key);
    if (!sent) return false;
    const entry = await this.opts.records.get(key);
    if (!entry || !isDeepStrictEqual(plain(entry.value), plain(sent))) return false;
    markPublished(this.opts.store, key, sent, entry.revision);
    this.counts.puts++;
    return true;
  }

  /** A token changed on another core meanwhile: the record's version is kept here. */
  private async takeRecordToken(key: string): Promise<void> {
    const entry = await this.opts.records.get(key);
    this.opts.log.warn(`record: ${key} was changed by another core; its version there is kept here`);
    if (!entry) return;
    try {
      importEntity(this.opts.store, key, entry.value, entry.revision);
    } catch (error) {
      this.opts.log.error(`record: ${key} could not be taken from the record`, error);
    }
  }

  /** The entity's export, or undefined when there is nothing of this cluster to ship. */
  private exportOf(entity: DirtyEntity): RecordExport | undefined {
    const { store } = this.opts;
    const what = `${entity.kind} ${entity.id}`;
    try {
      switch (entity.kind) {
        case 'request': {
          const cluster = store.requests.get(entity.id)?.target.cluster;
          return this.ours(cluster, what) ? exportRequest(store, entity.id) : undefined;
        }
        case 'incident': {
          const incident = store.incidents.get(entity.id);
          if (!incident) return undefined;
          const cluster = incidentCluster(store, incident.subject) ?? this.cluster;
          return this.ours(cluster, what) ? exportIncident(store, entity.id, cluster) : undefined;
        }
        case 'lab':
          return this.exportLabRow(Number(entity.id), what);
        case 'lab-actor': {
          const prefix = `${this.cluster}/`;
          if (!entity.id.startsWith(prefix)) return undefined;
          const id = recordRows(store).currentLabId(this.cluster, entity.id.slice(prefix.length));
          return id === undefined ? undefined : this.exportLabRow(id, what);
        }
        case 'token':
          return exportToken(store, entity.id);
        case 'maintenance': {
          // A tag window names no cluster: it is this cluster's, whose core set it.
          const window = store.maintenance.windows.get(entity.id);
          const cluster = window && (windowCluster(window) ?? this.cluster);
          return this.ours(cluster, what) ? exportMaintenance(store, entity.id, cluster) : undefined;
        }
        case 'silence': {
          const silence = store.maintenance.silences.get(entity.id);
          return this.ours(silence && silenceCluster(silence), what) ? exportSilence(store, entity.id) : undefined;
        }
      }
    } catch (error) {
      if (error instanceof RecordEntityError) {
        this.opts.log.warn(`record: ${what} is not shipped: ${error.message}`);
        return undefined;
      }
      if (error instanceof RecordValueError) {
        this.opts.log.error(`record: ${what} cannot be shipped`, error);
        throw new RecordShipError(`${what} cannot be put in the record: ${error.message}`, this.cluster, what, {
          cause: error,
        });
      }
      throw error;
    }
  }

  private exportLabRow(id: number, what: string): RecordExport | undefined {
    const lab = recordRows(this.opts.store).labById(id);
    if (!lab || !this.ours(lab.cluster, what)) return undefined;
    return exportLab(this.opts.store, lab.cluster, lab.name, lab.createdAt);
  }

  /** Only this cluster's keys are written (another cluster's are its owner's); anything else is reported once. */
  private ours(cluster: string | undefined, what: string): boolean {
    if (cluster === this.cluster) return true;
    if (cluster !== undefined && !this.warned.has(what)) {
      this.warned.add(what);
      this.opts.log.warn(`record: ${what} belongs to cluster ${cluster}, not ${this.cluster}: not shipped from here`);
    }
    return false;
  }

  // ---- ownership and the pump ---------------------------------------------------------------------------------------

  private loseOwnership(key: string, cause: unknown): RecordOwnershipLostError {
    if (this.lost) return this.lost;
    const lost = new RecordOwnershipLostError(
      `core ${this.opts.core} no longer owns the record of cluster ${this.cluster}: another core wrote '${key}'; ` +
        'shipping stopped',
      this.cluster,
      key,
      { cause },
    );
    this.lost = lost;
    this.lastError = lost.message;
    if (this.timer !== undefined) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.opts.log.error(lost.message, cause);
    try {
      this.opts.onLost?.(lost);
    } catch (error) {
      this.opts.log.error('record: the lost-ownership listener failed', error);
    }
    return lost;
  }

  private schedule(ms: number): void {
    if (this.closed || this.lost) return;
    this.timer = this.opts.clock.setTimeout(() => this.tick(), ms);
  }

  private tick(): void {
    this.timer = undefined;
    if (this.closed || this.lost) return;
    const status = this.status();
    if (status.pendingEntities === 0 && status.pendingAuditRows === 0) {
      this.schedule(this.intervalMs);
      return;
    }
    this.replicate().then(
      () => {
        if (this.outage) this.opts.log.info(`record: shipping the record of cluster ${this.cluster} again`);
        this.outage = false;
        this.pumpFailures = 0;
        this.schedule(this.intervalMs);
      },
      (error: unknown) => {
        if (error instanceof RecordOwnershipLostError || error instanceof RecordShipperClosedError) return;
        if (!this.outage) {
          this.opts.log.warn(`record: cluster ${this.cluster} not shipped: ${(error as Error).message}; retrying`);
        }
        this.outage = true;
        this.schedule(Math.max(this.intervalMs, backoff(++this.pumpFailures)));
      },
    );
  }
}
