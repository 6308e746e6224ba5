// Checkpoints of the audit chain's head, kept outside SQLite (DESIGN §11): every interval (60 s by default) the
// rows added since the last check are verified and the head (seq, link, where the keyed rows start, signed with the
// audit key) is stored in the OVERSEER_AUDIT stream. A tail removed or rewritten with SQLite access alone then no
// longer matches the last checkpoint. A problem, once found, is carried by every later checkpoint, so making the
// table consistent again does not erase it.
import { createActor, type EventObject, fromCallback } from 'xstate';
import type { Clock, TimerHandle } from '../adapters/clock';
import type { Log } from '../adapters/log';
import type { NatsBus } from '../adapters/nats';
import { ensureAuditStream, publishAuditCheckpoint, readLastAuditCheckpoint } from '../adapters/nats/streams';
import { AuditCheckpointSchema } from '../protocol/audit-schemas';
import type {
  AuditBreakRecord,
  AuditCheckpoint,
  AuditHead,
  AuditProblem,
  AuditVerification,
  StateStore,
} from '../state';
import { yieldToLoop } from './loop-turns';

/** How often the head is checkpointed, by default. */
export const DEFAULT_AUDIT_CHECKPOINT_INTERVAL_MS = 60_000;
/** Every this many cycles the whole chain is walked, by default (the others walk only the rows added since). */
export const DEFAULT_AUDIT_FULL_WALK_EVERY = 60;

/** Where checkpoints are kept: JetStream in production, memory in tests. */
export interface AuditCheckpointSink {
  /** The newest checkpoint stored for `keyId`, as stored (checked by the caller), or undefined when there is none. */
  last(keyId: string): Promise<unknown>;
  /** Stores a checkpoint; resolves once it is durable. */
  put(keyId: string, checkpoint: AuditCheckpoint): Promise<void>;
}

/** Checkpoints in the OVERSEER_AUDIT stream (created or updated here) on the bus's JetStream. */
export async function natsCheckpointSink(
  bus: Pick<NatsBus, 'jetstream' | 'jetstreamManager'>,
  opts: { namespace?: string | undefined } = {},
): Promise<AuditCheckpointSink> {
  const jsm = await bus.jetstreamManager();
  await ensureAuditStream(jsm, { namespace: opts.namespace });
  return {
    last: (keyId) => readLastAuditCheckpoint(jsm, keyId, opts.namespace),
    put: async (keyId, checkpoint) => {
      await publishAuditCheckpoint(bus.jetstream(), keyId, checkpoint, opts.namespace);
    },
  };
}

/** Checkpoints in memory (tests); `stored` holds every one put, by key id. */
export function memoryCheckpointSink(): AuditCheckpointSink & { stored: Map<string, unknown[]> } {
  const stored = new Map<string, unknown[]>();
  return {
    stored,
    last: async (keyId) => structuredClone(stored.get(keyId)?.at(-1)),
    put: async (keyId, checkpoint) => {
      const list = stored.get(keyId) ?? [];
      list.push(structuredClone(checkpoint));
      stored.set(keyId, list);
    },
  };
}

/** A stored checkpoint checked for shape; 'malformed' when it is not one. */
export function parseCheckpoint(raw: unknown): AuditCheckpoint | 'malformed' | undefined {
  if (raw === undefined) return undefined;
  const parsed = AuditCheckpointSchema.safeParse(raw);
  return parsed.success ? parsed.data : 'malformed';
}

/**
 * Verifies the chain against a stored checkpoint (raw, as the sink returns it). A checkpoint that is not one is a
 * `bad-checkpoint` problem, found after the table's own checks.
 */
export function verifyAgainst(store: StateStore, raw: unknown, anchor?: AuditHead): AuditVerification {
  return verifyWithCheckpoint(store, parseCheckpoint(raw), anchor);
}

/** Rows checked per slice by a walk that yields between slices (about 30 µs a row with the key: under 10 ms). */
export const AUDIT_SLICE_ROWS = 250;

/**
 * verifyWithCheckpoint, with the walk in slices that yield to the event loop between them, so verifying a long chain
 * (a million rows: half a minute) never holds decisions up. The rows up to the table's end as the walk began are
 * checked slice by slice (from `anchor` when given); what follows, with every check of the chain's end, by one
 * verify() from the last row checked, whose link it checks again (a changed one makes it walk the whole chain). A
 * slice that finds something wrong ends the slicing: that verify() names the problem.
 */
async function verifyInSlices(
  store: StateStore,
  checkpoint: AuditCheckpoint | 'malformed' | undefined,
  anchor: AuditHead | undefined,
): Promise<AuditVerification> {
  const end = store.audit.lastRow().seq;
  let at = anchor;
  let walked = 0;
  while ((at?.seq ?? 0) + AUDIT_SLICE_ROWS < end) {
    const slice = store.audit.walkSlice(at, AUDIT_SLICE_ROWS);
    if (slice.broken || slice.rows === 0) break;
    at = slice.last;
    walked += slice.rows;
    await yieldToLoop();
  }
  const verification = verifyWithCheckpoint(store, checkpoint, at);
  return { ...verification, rows: verification.rows + walked };
}

function verifyWithCheckpoint(
  store: StateStore,
  checkpoint: AuditCheckpoint | 'malformed' | undefined,
  anchor: AuditHead | undefined,
): AuditVerification {
  if (checkpoint !== 'malformed') return store.audit.verify({ checkpoint, anchor });
  const verification = store.audit.verify({ anchor });
  if (!verification.ok) return verification;
  return {
    ...verification,
    ok: false,
    problem: {
      row: verification.head.seq,
      kind: 'bad-checkpoint',
      sentence: 'the last stored checkpoint is not a checkpoint: it was not written by this Overseer',
    },
  };
}

/**
 * The whole chain verified against the last checkpoint in `sink`. Without a key, or when the checkpoint cannot be
 * read, the table's own checks are still made and `note` says what was not compared.
 */
export async function verifyAudit(
  store: StateStore,
  sink: AuditCheckpointSink | undefined,
): Promise<AuditVerification> {
  const keyId = store.audit.keyId;
  const walk = (checkpoint?: AuditCheckpoint | 'malformed') => verifyInSlices(store, checkpoint, undefined);
  if (!keyId) return { ...(await walk()), note: 'the chain is not keyed: there is no checkpoint to compare with' };
  if (!sink) return { ...(await walk()), note: 'no checkpoint store: the tail was not compared with a checkpoint' };
  let raw: unknown;
  try {
    raw = await sink.last(keyId);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { ...(await walk()), note: `the last checkpoint could not be read (${why}): the tail was not compared` };
  }
  const verification = await walk(parseCheckpoint(raw));
  return raw === undefined ? { ...verification, note: 'no checkpoint has been stored yet' } : verification;
}

export interface AuditCheckpointerDeps {
  /** A store opened with the audit key. */
  store: StateStore;
  sink: AuditCheckpointSink;
  clock: Clock;
  log: Pick<Log, 'info' | 'warn' | 'error'>;
  /** Default DEFAULT_AUDIT_CHECKPOINT_INTERVAL_MS. */
  intervalMs?: number | undefined;
  /** Default DEFAULT_AUDIT_FULL_WALK_EVERY. */
  fullWalkEvery?: number | undefined;
  /**
   * The start-up verification (verifyAudit): when intact, the first cycle walks only the rows added since; its
   * problem, when broken, counts as reported already.
   */
  initial?: AuditVerification | undefined;
  /** Told once for each problem found (not for one the checkpoints already carry), e.g. reportBrokenAudit. */
  onBroken?: ((verification: AuditVerification) => unknown) | undefined;
}

export interface AuditCheckpointCycle {
  verification: AuditVerification;
  /** The checkpoint stored by this cycle; undefined when the head had not moved. */
  stored: AuditCheckpoint | undefined;
}

/**
 * Names a problem so it is reported once: a tail problem by the checkpoint it was found against (its row moves as
 * rows are appended after a deleted tail), any other by its kind and row.
 */
export function auditProblemKey(verification: AuditVerification): string | undefined {
  const p = verification.problem;
  if (!p) return undefined;
  const tail = p.kind === 'behind-checkpoint' || p.kind === 'rewritten-tail';
  return tail && verification.checkpoint
    ? `tail:${verification.checkpoint.seq}:${verification.checkpoint.at}`
    : `${p.kind}:${p.row}`;
}

const breakRecord = (p: AuditProblem, foundAt: number): AuditBreakRecord => ({
  row: p.row,
  kind: p.kind,
  sentence: p.sentence,
  foundAt,
});

const isFresh = (p: AuditProblem | undefined): p is AuditProblem => p !== undefined && p.recordedAt === undefined;

const sameBreak = (a: AuditBreakRecord | undefined, b: AuditBreakRecord | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.kind === b.kind && a.row === b.row && a.foundAt === b.foundAt);

/** The timer of the checkpoint loop, as a callback actor: the first cycle at once, then one per interval. */
const checkpointTimer = fromCallback<EventObject, { clock: Clock; intervalMs: number; tick: () => Promise<unknown> }>(
  ({ input }) => {
    let handle: TimerHandle | undefined;
    let stopped = false;
    const run = () => {
      handle = undefined;
      void input.tick().finally(() => {
        if (!stopped) handle = input.clock.setTimeout(run, input.intervalMs);
      });
    };
    run();
    return () => {
      stopped = true;
      if (handle !== undefined) input.clock.clearTimeout(handle);
    };
  },
);

/**
 * Checkpoints the audit chain's head every interval. Cycles never overlap; a failed cycle (the stream unreachable)
 * is logged and the next one tries again.
 */
export class AuditCheckpointer {
  private readonly intervalMs: number;
  private readonly fullWalkEvery: number;
  private readonly keyId: string;
  private actor: { stop(): void } | undefined;
  private running: Promise<unknown> = Promise.resolve();
  private cycles = 0;
  /** The last checkpoint read or stored; null once read and found missing. */
  private last: AuditCheckpoint | 'malformed' | null | undefined;
  /** The head verified by the last cycle: the next walk starts there. */
  private anchor: AuditHead | undefined;
  private readonly reported = new Set<string>();
  /** The first problem this process found (at start-up or in a cycle): what the next checkpoint carries. */
  private firstFound: AuditBreakRecord | undefined;

  constructor(private readonly deps: AuditCheckpointerDeps) {
    const keyId = deps.store.audit.keyId;
    if (!keyId) throw new TypeError('audit checkpoints need a store opened with the audit key');
    this.keyId = keyId;
    this.intervalMs = deps.intervalMs ?? DEFAULT_AUDIT_CHECKPOINT_INTERVAL_MS;
    this.fullWalkEvery = Math.max(1, deps.fullWalkEvery ?? DEFAULT_AUDIT_FULL_WALK_EVERY);
    if (!(this.intervalMs > 0))
      throw new RangeError(`the audit checkpoint interval must be positive (got ${this.intervalMs})`);
    const initial = deps.initial;
    if (initial?.ok) this.anchor = initial.head;
    else if (initial && isFresh(initial.problem)) {
      this.reported.add(auditProblemKey(initial) ?? '');
      this.firstFound = breakRecord(initial.problem, deps.clock.now());
    }
  }

  /** Starts the loop: a cycle now, then one every interval. */
  start(): this {
    if (this.actor) return this;
    const actor = createActor(checkpointTimer, {
      id: 'audit-checkpoint',
      input: {
        clock: this.deps.clock,
        intervalMs: this.intervalMs,
        tick: () =>
          this.checkpointNow().catch((error: unknown) =>
            this.deps.log.warn(`audit checkpoint failed: ${message(error)}`),
          ),
      },
    });
    this.actor = actor;
    actor.start();
    return this;
  }

  /** Stops the loop, waits for a running cycle, then stores a last checkpoint (unless `final` is false). */
  async stop(opts: { final?: boolean } = {}): Promise<void> {
    this.actor?.stop();
    this.actor = undefined;
    await this.running.catch(() => undefined);
    if (opts.final === false) return;
    await this.checkpointNow().catch((error: unknown) =>
      this.deps.log.warn(`the last audit checkpoint failed: ${message(error)}`),
    );
  }

  /** One cycle now (after any running one): verify since the last check, store the head if it moved. */
  checkpointNow(): Promise<AuditCheckpointCycle> {
    const next = this.running.catch(() => undefined).then(() => this.cycle());
    this.running = next;
    return next;
  }

  private async cycle(): Promise<AuditCheckpointCycle> {
    const { store, sink, clock, log } = this.deps;
    if (this.last === undefined) this.last = parseCheckpoint(await sink.last(this.keyId)) ?? null;
    const full = this.anchor === undefined || (this.cycles > 0 && this.cycles % this.fullWalkEvery === 0);
    this.cycles++;
    const verification = await verifyInSlices(store, this.last ?? undefined, full ? undefined : this.anchor);

    const fresh = isFresh(verification.problem) ? verification.problem : undefined;
    const key = auditProblemKey(verification) ?? '';
    if (fresh) this.firstFound ??= breakRecord(fresh, clock.now());
    if (fresh && !this.reported.has(key)) {
      this.reported.add(key);
      log.error(`audit log damaged at row ${fresh.row} (${fresh.kind}): ${fresh.sentence}`);
      try {
        await this.deps.onBroken?.(verification);
      } catch (error) {
        log.error('reporting the damaged audit log failed', error);
      }
    }

    // A checkpoint that is not this key's is no evidence: its record is not carried.
    const trusted =
      this.last !== 'malformed' && fresh?.kind !== 'bad-checkpoint' ? (this.last ?? undefined) : undefined;
    const broken = trusted?.broken ?? this.firstFound;
    // The table's last row as the verification read it (after a problem too: the evidence travels in `broken`).
    const head = verification.head;
    const checkpoint = store.audit.checkpointOf(head, clock.now(), broken);
    const moved =
      !trusted ||
      trusted.seq !== checkpoint.seq ||
      trusted.hash !== checkpoint.hash ||
      trusted.keyedFrom !== checkpoint.keyedFrom ||
      !sameBreak(trusted.broken, checkpoint.broken);
    if (moved) {
      await sink.put(this.keyId, checkpoint);
      this.last = checkpoint;
    }
    this.anchor = head;
    return { verification, stored: moved ? checkpoint : undefined };
  }
}

/** A started AuditCheckpointer. */
export function startAuditCheckpoints(deps: AuditCheckpointerDeps): AuditCheckpointer {
  return new AuditCheckpointer(deps).start();
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));
