// What a core runs for ONE Proxmox cluster it owns (DESIGN §14, docs/multi-core.md, issue 15):
// 1. the local view rebuilt from the record (cluster-import.ts): `<dataDir>/clusters/<cluster>.db`, removed, created,
//    and filled with the cluster's entities, the API tokens and the cluster's audit batches;
// 2. the record shipper on that store (record-shipper.ts): every local commit's entities and audit rows put in the
//    record with compare-and-set, fenced by this core's lease;
// 3. an Overseer for this cluster alone on that store: the inventory is read first (the record has no VMs; an
//    executing request must find its guest), then the actors are restored and the loops started, so a request that
//    was executing resumes by polling its recorded task, never issuing it again;
// 4. the hooks that keep the record ahead of the world: a submission's answer, an approval's, denial's or
//    cancellation's, and every platform call wait until what led to them is in the record (OverseerDeps.afterDurable
//    → RecordShipper.durable()).
// A refused compare-and-set (another core owns the record now) stops the runtime at once (no platform call after)
// and is reported through onLost; stop() is the clean end, when the lease is released or lost.
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import type { RecordStore } from '../adapters/nats/record-store';
import type { Notifier } from '../adapters/notify';
import type { Platform } from '../adapters/platform/types';
import type { Requester } from '../machines/types';
import type { AuditKey, StateStore } from '../state';
import { type ClusterImportReport, ClusterRuntimeError, rebuildClusterStore } from './cluster-import';
import type { OverseerConfig } from './config';
import type { SshTargetSource } from './monitor';
import { Overseer, type OverseerDeps } from './overseer';
import type { EventSink } from './overseer-deps';
import {
  type RecordOwnershipLostError,
  RecordShipper,
  RecordShipperClosedError,
  type RecordShipperStatus,
} from './record-shipper';
import type { CommandResult } from './submission';

export { type ClusterImportReport, ClusterRuntimeError, clusterDbPath } from './cluster-import';

export interface ClusterRuntimeOptions {
  /** The Proxmox cluster this runtime is for (its lease's name). */
  cluster: string;
  /** Its platform (fenced by the lease service for every mutating call). */
  platform: Platform;
  /** The core's data dir: the runtime's SQLite is `<dataDir>/clusters/<cluster>.db`. */
  dataDir: string;
  /** This core's id (in the audit batches it appends). */
  core: string;
  records: RecordStore;
  /** The lease service's fence for this cluster: throws unless this core's lease is valid now. */
  fence: () => void;
  /** Where the runtime's events go (the core's NATS bus). */
  bus?: EventSink | undefined;
  config: OverseerConfig;
  clock: Clock;
  log: Log;
  knowledge?: OverseerDeps['knowledge'];
  notifier?: Notifier | undefined;
  ssh?: SshTargetSource | undefined;
  inspect?: OverseerDeps['inspect'];
  newId?: OverseerDeps['newId'];
  /** The core's audit key: the runtime's chain is linked under it (unkeyed without). */
  auditKey?: AuditKey | undefined;
  /** How often unshipped commits are looked for (default 50 ms). */
  shipIntervalMs?: number | undefined;
  /** Inventory reads tried before the actors are restored (default 3, a second apart); then it starts anyway. */
  inventoryAttempts?: number | undefined;
  /** Another core wrote the record: the runtime has stopped itself (no platform call after). */
  onLost?: ((error: RecordOwnershipLostError) => void) | undefined;
}

export interface ClusterRuntime {
  readonly cluster: string;
  readonly overseer: Overseer;
  readonly store: StateStore;
  /** What was imported from the record at the start. */
  readonly imported: ClusterImportReport;
  /** Ships every commit made before the call (one round in flight at a time; see record-shipper.ts). */
  replicate(): Promise<void>;
  /** replicate(), retried while the record cannot be reached and the lease holds (what an answer waits for). */
  durable(): Promise<void>;
  /** The Overseer's commands, answered once their effect is in the record. */
  approve(id: string, by: Requester, reason?: string): Promise<CommandResult>;
  deny(id: string, by: Requester, reason?: string): Promise<CommandResult>;
  cancel(id: string, by: Requester, reason?: string): Promise<CommandResult>;
  /** The shipper's state: pending entities and audit rows, puts, failures. */
  shipping(): RecordShipperStatus;
  /**
   * Stops the Overseer (no platform call after), ships what is left (unless `replicate: false`, as when the lease
   * is lost), closes the store.
   */
  stop(opts?: { replicate?: boolean }): Promise<void>;
}

const INVENTORY_RETRY_MS = 1_000;

/** Rebuilds the cluster's local view from the record, then starts its shipper and its Overseer. */
export async function startClusterRuntime(opts: ClusterRuntimeOptions): Promise<ClusterRuntime> {
  const { cluster, clock, log } = opts;
  const { store, report } = await rebuildClusterStore(opts);
  let runtime: ClusterRuntimeImpl | undefined;
  let shipper: RecordShipper | undefined;
  try {
    shipper = RecordShipper.start({
      cluster,
      core: opts.core,
      store,
      records: opts.records,
      fence: opts.fence,
      clock,
      log,
      intervalMs: opts.shipIntervalMs,
      onLost: (error) => runtime?.lost(error),
    });
    const ship = shipper;
    const overseer = new Overseer({
      clock,
      log,
      config: opts.config,
      store,
      platforms: new Map([[cluster, opts.platform]]),
      events: opts.bus,
      inspect: opts.inspect,
      knowledge: opts.knowledge,
      notifier: opts.notifier,
      ssh: opts.ssh,
      newId: opts.newId,
      // The request service flushed its writes before it calls this: what it waits for is in the record after.
      afterDurable: () => ship.durable(),
    });
    runtime = new ClusterRuntimeImpl(cluster, overseer, store, report, ship, log, opts.onLost);
    await runtime.readInventory(opts.inventoryAttempts ?? 3, clock);
    if (runtime.stopped) throw new ClusterRuntimeError(`cluster ${cluster}: stopped while starting`, cluster, 'start');
    overseer.start();
    log.info(`cluster ${cluster}: runtime of core ${opts.core} started`);
    return runtime;
  } catch (error) {
    if (runtime) await runtime.stop({ replicate: false });
    else {
      await shipper?.close();
      store.close();
    }
    if (error instanceof ClusterRuntimeError) throw error;
    throw new ClusterRuntimeError(
      `cluster ${cluster}: the runtime did not start: ${(error as Error).message}`,
      cluster,
      'start',
      {
        cause: error,
      },
    );
  }
}

class ClusterRuntimeImpl implements ClusterRuntime {
  stopped = false;
  private stopping: Promise<void> | undefined;

  constructor(
    readonly cluster: string,
    readonly overseer: Overseer,
    readonly store: StateStore,
    readonly imported: ClusterImportReport,
    private readonly shipper: RecordShipper,
    private readonly log: Log,
    private readonly onLost: ClusterRuntimeOptions['onLost'],
  ) {}

  /** One inventory read before restoring; a cluster that cannot be read is tried again, then started without. */
  async readInventory(attempts: number, clock: Clock): Promise<void> {
    for (let attempt = 1; attempt <= Math.max(1, attempts) && !this.stopped; attempt++) {
      try {
        await this.overseer.syncAll();
        return;
      } catch (error) {
        const more = attempt < attempts ? `; trying again in ${INVENTORY_RETRY_MS} ms` : '; restoring without it';
        this.log.warn(`cluster ${this.cluster}: the inventory could not be read (${(error as Error).message})${more}`);
        if (attempt < attempts) await clock.sleep(INVENTORY_RETRY_MS);
      }
    }
  }

  replicate(): Promise<void> {
    return this.shipper.replicate();
  }

  durable(): Promise<void> {
    return this.shipper.durable();
  }

  approve(id: string, by: Requester, reason?: string): Promise<CommandResult> {
    return this.command(() => this.overseer.approve(id, by, reason));
  }
  deny(id: string, by: Requester, reason?: string): Promise<CommandResult> {
    return this.command(() => this.overseer.deny(id, by, reason));
  }
  cancel(id: string, by: Requester, reason?: string): Promise<CommandResult> {
    return this.command(() => this.overseer.cancel(id, by, reason));
  }

  private async command(run: () => CommandResult): Promise<CommandResult> {
    if (this.stopped) throw new RecordShipperClosedError(this.cluster);
    const result = run();
    // The command's effect was committed (RequestService flushes): it is answered once the record has it.
    if (result.ok) await this.shipper.durable();
    return result;
  }

  shipping(): RecordShipperStatus {
    return this.shipper.status();
  }

  /** Another core wrote the record: stop now, without shipping (it would be refused), and tell the core. */
  lost(error: RecordOwnershipLostError): void {
    queueMicrotask(() => {
      this.stop({ replicate: false }).catch((e: unknown) => this.log.error(`cluster ${this.cluster}: stop failed`, e));
      try {
        this.onLost?.(error);
      } catch (e) {
        this.log.error(`cluster ${this.cluster}: the lost-record listener failed`, e);
      }
    });
  }

  stop(opts: { replicate?: boolean } = {}): Promise<void> {
    this.stopping ??= this.shutdown(opts.replicate ?? true);
    return this.stopping;
  }

  private async shutdown(replicate: boolean): Promise<void> {
    this.stopped = true;
    try {
      this.overseer.stop();
    } catch (error) {
      this.log.error(`cluster ${this.cluster}: stopping the Overseer failed`, error);
    }
    if (replicate) {
      await this.shipper.replicate().catch((error: unknown) => {
        this.log.warn(`cluster ${this.cluster}: the last changes were not shipped: ${(error as Error).message}`);
      });
    }
    await this.shipper.close();
    this.store.close();
    this.log.info(`cluster ${this.cluster}: runtime stopped`);
  }
}
