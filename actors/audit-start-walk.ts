// The start-up walk of the whole audit chain and, from what it found, the periodic checkpoints. The walk begins a
// moment after the core serves (START_AFTER_SERVING_MS: it does not compete with the first requests after a restart) and
// runs in slices between the core's work (a long chain would otherwise hold the start for seconds). A broken chain is
// reported once found (`report`: a critical incident that notifies), at start-up or by a checkpoint.
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import type { AuditVerification, StateStore } from '../state';
import type { AuditCheckpointer, AuditCheckpointSink } from './audit-checkpoint';
import { startAuditCheckpoints, verifyAudit } from './audit-checkpoint';

/**
 * How long after the core serves the work that can wait begins: this walk, and the loops (actors/core-process.ts).
 */
export const START_AFTER_SERVING_MS = 1000;

export interface StartWalkDeps {
  store: StateStore;
  sink: AuditCheckpointSink;
  clock: Clock;
  log: Log;
  checkpointIntervalMs: number;
  report: (verification: AuditVerification) => unknown;
}

export class AuditStartWalk {
  private stopped = false;
  private checkpoints: AuditCheckpointer | undefined;
  private begin: () => void = () => {};
  private readonly done: Promise<void>;

  constructor(private readonly deps: StartWalkDeps) {
    const { store, sink, clock, log, report } = deps;
    this.done = new Promise<void>((resolve) => {
      this.begin = resolve;
    })
      .then(() => (this.stopped ? undefined : verifyAudit(store, sink)))
      .then((atStart) => {
        if (this.stopped || !atStart) return;
        if (!atStart.ok) report(atStart);
        this.checkpoints = startAuditCheckpoints({
          store,
          sink,
          clock,
          log,
          initial: atStart,
          onBroken: report,
          intervalMs: deps.checkpointIntervalMs,
        });
      })
      .catch((error: unknown) => log.error('the audit chain could not be verified at start-up', error));
  }

  /** The core serves: the walk begins START_AFTER_SERVING_MS from now. */
  start(): void {
    const timer = this.deps.clock.setTimeout(() => this.begin(), START_AFTER_SERVING_MS);
    const begin = this.begin;
    this.begin = () => {
      this.deps.clock.clearTimeout(timer);
      begin();
    };
  }

  /** Stops the walk (one not begun never does) and the checkpoints, which store a last one. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.begin();
    await this.done;
    await this.checkpoints?.stop();
  }
}
