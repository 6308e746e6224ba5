// A set of entity actors of one kind (VMs, hosts or requests): creates them, restores them from persisted
// snapshots, and watches each through the one state-change hook.
// With `passivate` (VMs: 100k of them, each idle between the rare events that change it) an idle actor can be put
// to rest: the running XState actor (its own system, mailbox, listeners: ~4 KiB) is stopped and only its last
// snapshot is kept. `get` brings it back from that snapshot (the same state and context; no event, no state-change
// line, no write), so whoever sends to it sees the same machine. Only logic without timers, delays or children may be
// passivated: such an actor does nothing between events. `send` does not even bring it back: the event is handled at
// rest (actors/actor-at-rest.ts) as the running actor would handle it.
import type {
  Actor,
  AnyStateMachine,
  EmittedFrom,
  EventFrom,
  InputFrom,
  InspectionEvent,
  Observer,
  SnapshotFrom,
} from 'xstate';
import { createActor } from 'xstate';
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import { AtRest } from './actor-at-rest';
import type { InertScope } from './actor-scope';
import { inertScope, quietStart } from './actor-scope';
import { yieldToLoop } from './loop-turns';
import { RestingResolver } from './resolve-resting';
import type { StateChange } from './watch';
import { stateName, watchActor } from './watch';

/** Actors `startDeferred` starts between two turns of the event loop (a request's: about 0.1 ms each). */
const DEFERRED_SLICE = 50;

export type EntityKind = 'vm' | 'host' | 'request' | 'incident' | 'lab';

export interface ActorSetOptions<TLogic extends AnyStateMachine> {
  kind: EntityKind;
  logic: TLogic;
  /** Actor id from key: `vm:lab/101`, `host:lab/pve1`, `req:<id>`. */
  idOf: (key: string) => string;
  clock: Clock;
  log: Log;
  inspect?: Observer<InspectionEvent> | undefined;
  onStateChange?: (key: string, change: StateChange<SnapshotFrom<TLogic>>) => void;
  onSnapshot?: (key: string, snapshot: SnapshotFrom<TLogic>, stateChanged: boolean) => void;
  /** Called once per actor before it starts; again when a passivated one comes back. */
  onCreated?: (key: string, actor: Actor<TLogic>) => void;
  /** What an actor emits, whether it runs or the event was handled at rest (see `send`). */
  onEmitted?: ((key: string, event: EmittedFrom<TLogic>) => void) | undefined;
  /** Called when a new actor is made under `key` (by `create` or `createResting`), before anything else. */
  onNew?: (key: string) => void;
  /** Idle actors may be put to rest by `passivateIdle` (logic without timers, delays or children only). */
  passivate?: boolean | undefined;
  /** Runs a burst of work on these actors as one unit of the store (one transaction); see `batch`. */
  transaction?: (<T>(fn: () => T) => T) | undefined;
  /**
   * Without `inspect`: records the type of each event an actor receives (`xstate.init` when it starts, but not when it
   * wakes), for the inspector's journal, without XState building its inspection stream on every transition: what
   * its own `send`, a child's relay (a promise's outcome, a callback's event) or a delayed event hands it.
   */
  journal?: ((actorId: string, eventType: string) => void) | undefined;
}

/** What `entries()` hands out for an actor at rest: its snapshot, without bringing it back; anything else does. */
class RestingActorRef<TLogic extends AnyStateMachine> {
  constructor(
    readonly id: string,
    private readonly snapshot: SnapshotFrom<TLogic>,
    private readonly set: ActorSet<TLogic>,
    private readonly key: string,
  ) {}
  private wake(): Actor<TLogic> {
    return this.set.get(this.key) as Actor<TLogic>;
  }
  getSnapshot(): SnapshotFrom<TLogic> {
    return this.snapshot;
  }
  getPersistedSnapshot(): unknown {
    return this.wake().getPersistedSnapshot();
  }
  send(event: EventFrom<TLogic>): void {
    this.set.send(this.key, event);
  }
  get logic(): TLogic {
    return this.wake().logic;
  }
}

/** Where XState's system relay hands an actor each event it receives (internal to XState's types). */
interface Receiver<TLogic extends AnyStateMachine> {
  _send(event: EventFrom<TLogic>): void;
}

export class ActorSet<TLogic extends AnyStateMachine> {
  /** Running actors; `deliver` hands an event to the actor without journaling it again (see `start`). */
  private readonly actors = new Map<
    string,
    { actor: Actor<TLogic>; unwatch: () => void; deliver: (event: EventFrom<TLogic>) => void }
  >();
  /** Actors at rest: their last snapshot, by key. A key is in `actors` or here, never both. */
  private readonly resting = new Map<string, SnapshotFrom<TLogic>>();
  /**
   * Actors restored but not started yet (`restoreDeferred`, any logic): the stored snapshot each starts from. Each is
   * also in `resting` (its snapshot resolved, for reads), so anything but a read starts it, as it wakes one at rest.
   */
  private readonly deferred = new Map<string, unknown>();

  private readonly options: ActorSetOptions<TLogic>;
  /** The scope `createResting` resolves initial states in (made on first use). */
  private scope: InertScope | undefined;
  /** What `restoreResting` resolves stored snapshots with (made on first use). */
  private resolver: RestingResolver<TLogic> | undefined;
  /** How `send` handles an event for an actor at rest (made on first use; passivate and no `inspect` only). */
  private atRest: AtRest<TLogic> | undefined;

  constructor(options: ActorSetOptions<TLogic>) {
    this.options = options;
  }

  get size(): number {
    return this.actors.size + this.resting.size;
  }
  /** The actor (one at rest is brought back first). */
  get(key: string): Actor<TLogic> | undefined {
    const live = this.actors.get(key)?.actor;
    if (live) return live;
    const snapshot = this.resting.get(key);
    return snapshot === undefined ? undefined : this.wake(key, snapshot);
  }
  /**
   * Sends `event` to the actor under `key`: 'rest' when it was handled at rest (passivate and no inspection observer,
   * which must see the actor: exactly as a running actor handles it, see AtRest), 'live' when a running actor got it
   * (one at rest that the event would finish or fail is brought back for it), undefined when there is none.
   */
  send(key: string, event: EventFrom<TLogic>): 'live' | 'rest' | undefined {
    // One restored but not started yet starts first (its start journaled before the event, as `restore` does).
    if (this.deferred.has(key)) this.get(key);
    const live = this.actors.get(key)?.actor;
    if (live) {
      live.send(event);
      return 'live';
    }
    if (!this.resting.has(key)) return undefined;
    // Journaled as a running actor's send journals it: as it is sent (before it is handled, or waits: see AtRest).
    const options = this.options;
    if (!options.inspect) options.journal?.(options.idOf(key), (event as { type: string }).type);
    return this.deliver(key, event);
  }
  /** `send` of an event already journaled (the running actor gets it through its own send). */
  private deliver(key: string, event: EventFrom<TLogic>): 'live' | 'rest' | undefined {
    const live = this.actors.get(key);
    if (live) {
      live.deliver(event);
      return 'live';
    }
    const snapshot = this.resting.get(key);
    if (snapshot === undefined) return undefined;
    const options = this.options;
    if (options.passivate && !options.inspect && !this.deferred.has(key)) {
      this.atRest ??= new AtRest(options, this.resting, this.wakeFor, (k, e) => this.deliver(k, e));
      return this.atRest.handle(key, snapshot, event);
    }
    this.wakeFor(key, snapshot, event);
    return 'live';
  }
  /** Brings an actor at rest back and hands it an event already journaled. */
  private readonly wakeFor = (key: string, snapshot: SnapshotFrom<TLogic>, event: EventFrom<TLogic>): void => {
    this.wake(key, snapshot);
    this.actors.get(key)?.deliver(event);
  };
  /** The actor's current snapshot without bringing one at rest back. */
  peek(key: string): SnapshotFrom<TLogic> | undefined {
    const resting = this.resting.get(key);
    if (resting !== undefined) return resting;
    return this.actors.get(key)?.actor.getSnapshot() as SnapshotFrom<TLogic> | undefined;
  }
  has(key: string): boolean {
    return this.actors.has(key) || this.resting.has(key);
  }
  *keys(): IterableIterator<string> {
    yield* this.actors.keys();
    yield* this.resting.keys();
  }
  /** Every key now, in an array: `[...keys()]` without a generator's step per key (100k keys: 7–9 ms, not 11–16). */
  keyArray(): string[] {
    const keys = Array.from(this.actors.keys());
    for (const key of this.resting.keys()) keys.push(key);
    return keys;
  }
  /** Every actor; one at rest is handed out as a reference that reads its snapshot and wakes it for anything else. */
  *entries(): IterableIterator<[string, Actor<TLogic>]> {
    for (const [key, { actor }] of this.actors) yield [key, actor];
    for (const [key, snapshot] of this.resting) {
      if (!this.resting.has(key)) continue;
      const ref = new RestingActorRef(this.options.idOf(key), snapshot, this, key);
      yield [key, ref as unknown as Actor<TLogic>];
    }
  }
  /** The running actors only (those at rest are all active and idle). */
  *liveEntries(): IterableIterator<[string, Actor<TLogic>]> {
    for (const [key, { actor }] of this.actors) yield [key, actor];
  }
  get liveCount(): number {
    return this.actors.size;
  }

  /**
   * Puts every running, active actor to rest (passivate only); `keys` limits it to those.
   * Call it when nobody holds an actor across it: right after a burst of work (a sync slice), never while a caller
   * keeps a reference.
   */
  passivateIdle(keys?: Iterable<string>): number {
    if (!this.options.passivate) return 0;
    let n = 0;
    for (const key of keys ?? [...this.actors.keys()]) {
      const entry = this.actors.get(key);
      if (!entry) continue;
      const snapshot = entry.actor.getSnapshot() as SnapshotFrom<TLogic>;
      if ((snapshot as { status?: string }).status !== 'active') continue;
      this.actors.delete(key);
      entry.unwatch();
      entry.actor.stop();
      this.resting.set(key, snapshot);
      n++;
    }
    return n;
  }

  /**
   * Runs `fn` (synchronous) as one unit of the store when the set has one: the rows its actors write on the way
   * (audit rows of what they emit) are committed together, in the order they were written, when `fn` returns.
   */
  batch<T>(fn: () => T): T {
    return this.options.transaction ? this.options.transaction(fn) : fn();
  }

  /**
   * Brings an actor at rest back from its snapshot: no event, no state-change line, no snapshot written. One restored
   * by `restoreDeferred` starts from its stored snapshot, as `restore` would have started it.
   */
  private wake(key: string, snapshot: SnapshotFrom<TLogic>): Actor<TLogic> {
    this.resting.delete(key);
    const value = stateName((snapshot as { value: never }).value);
    const stored = this.deferred.get(key);
    if (stored === undefined) return this.start(key, value, { snapshot }, 'wake');
    this.deferred.delete(key);
    return this.start(key, value, { snapshot: stored }, 'restore');
  }

  /** A new actor, logged as a change from 'none'. */
  create(key: string, input: InputFrom<TLogic>): Actor<TLogic> {
    this.options.onNew?.(key);
    return this.start(key, 'none', { input });
  }

  /**
   * A new actor made straight at rest (passivate only): its initial state is resolved against the machine without
   * starting an XState actor, as `restoreResting` does on a restart, so a first sync of 100k VMs starts (and leaves
   * behind) none. Everything else is as `create` then `passivateIdle`: the state change from 'none' is logged and
   * handed on, its snapshot too, and its start journaled. Logic whose start does anything (actions, children), a
   * set without passivation or one under an inspection observer (which must see the actor start) takes `create`.
   */
  createResting(key: string, input: InputFrom<TLogic>): SnapshotFrom<TLogic> {
    const options = this.options;
    const initial = options.passivate && !options.inspect ? this.initialAtRest(input) : undefined;
    if (!initial) {
      const snapshot = this.create(key, input).getSnapshot() as SnapshotFrom<TLogic>;
      this.passivateIdle([key]);
      return snapshot;
    }
    options.onNew?.(key);
    this.remove(key);
    this.resting.set(key, initial);
    const actorId = options.idOf(key);
    options.journal?.(actorId, 'xstate.init');
    const to = stateName((initial as { value: never }).value);
    options.log.stateChange(actorId, 'none', to);
    options.onStateChange?.(key, { actorId, from: 'none', to, snapshot: initial });
    options.onSnapshot?.(key, initial, true);
    return initial;
  }

  /** The initial snapshot for `input` when reaching it does nothing but compute (else undefined). */
  private initialAtRest(input: InputFrom<TLogic>): SnapshotFrom<TLogic> | undefined {
    this.scope ??= inertScope(this.options.logic);
    const scope = this.scope;
    scope.effects = 0;
    const snapshot = this.options.logic.getInitialSnapshot(scope.scope, input) as SnapshotFrom<TLogic>;
    const { status, children } = snapshot as { status?: string; children?: object };
    if (scope.effects > 0 || status !== 'active' || (children && Object.keys(children).length > 0)) return undefined;
    return snapshot;
  }

  /** An actor restored from a persisted snapshot; a finished one (final state) is not brought back. */
  restore(key: string, persisted: unknown, input?: InputFrom<TLogic>): Actor<TLogic> | undefined {
    const snap = persisted as { status?: string; value?: unknown };
    if (snap.status !== 'active') return undefined;
    return this.start(key, stateName(snap.value as never), { snapshot: persisted, input }, 'restore');
  }

  /**
   * Restores an actor whose start can wait (any logic): it is readable at once (`peek`, `entries`, `keys`) and starts,
   * as `restore` starts it, when anything else asks for it or when `startDeferred` reaches it. A restart with many
   * requests in flight serves first and starts them in slices. A finished one is not brought back.
   */
  restoreDeferred(key: string, persisted: unknown): SnapshotFrom<TLogic> | undefined {
    if ((persisted as { status?: string }).status !== 'active') return undefined;
    this.remove(key);
    this.resolver ??= new RestingResolver(this.options.logic);
    const snapshot = this.resolver.resolve(persisted);
    this.resting.set(key, snapshot);
    this.deferred.set(key, persisted);
    return snapshot;
  }

  /** Starts every actor `restoreDeferred` left waiting, `perSlice` at a time, the event loop's turns before each. */
  async startDeferred(perSlice = DEFERRED_SLICE): Promise<void> {
    while (this.deferred.size > 0) {
      await yieldToLoop();
      for (const key of [...this.deferred.keys()].slice(0, perSlice)) {
        try {
          this.get(key);
        } catch (error) {
          // One that cannot start is gone from the set (as a failed restore); the others still start.
          this.remove(key);
          this.options.log.error(`${this.options.idOf(key)}: could not be started from its stored snapshot`, error);
        }
      }
    }
  }

  /**
   * Restores an actor straight to rest (passivate only; otherwise as `restore`): its snapshot is resolved against
   * the machine without starting an XState actor, so a restart with 100k idle VMs starts none. `get` wakes it as it
   * wakes any actor at rest. A finished one is not brought back.
   */
  restoreResting(key: string, persisted: unknown): SnapshotFrom<TLogic> | undefined {
    if (!this.options.passivate) return this.restore(key, persisted)?.getSnapshot() as SnapshotFrom<TLogic>;
    const snap = persisted as Parameters<TLogic['resolveState']>[0] & { status?: string };
    if (snap.status !== 'active') return undefined;
    this.remove(key);
    this.resolver ??= new RestingResolver(this.options.logic);
    const snapshot = this.resolver.resolve(snap);
    this.resting.set(key, snapshot);
    return snapshot;
  }

  /**
   * Starts an actor: 'new' (journaled, its first snapshot handed on), 'wake' (from rest: its start is not an event it
   * received, neither journaled nor written again) or 'restore' (from its stored snapshot: journaled, but the snapshot
   * it starts in is the stored one, not written again; a change while starting still is).
   */
  private start(
    key: string,
    initial: string,
    extra: { input?: unknown; snapshot?: unknown },
    mode: 'new' | 'wake' | 'restore' = 'new',
  ): Actor<TLogic> {
    const options = this.options;
    this.remove(key);
    const actorId = options.idOf(key);
    const waking = mode === 'wake';
    let quiet = mode !== 'new';
    const inspect =
      waking && options.inspect
        ? quietStart(options.inspect, () => quiet)
        : (options.inspect as Observer<InspectionEvent>);
    const actor = createActor(options.logic, {
      id: actorId,
      clock: options.clock,
      inspect,
      ...(extra.snapshot !== undefined ? { snapshot: extra.snapshot as never } : {}),
      ...(extra.input !== undefined ? { input: extra.input as never } : {}),
    });
    const unwatch = watchActor(actor, {
      actorId,
      log: options.log,
      initial,
      onStateChange: (change) => options.onStateChange?.(key, change as StateChange<SnapshotFrom<TLogic>>),
      onSnapshot: (snapshot, changed) => {
        if (!quiet || (changed && !waking)) options.onSnapshot?.(key, snapshot as SnapshotFrom<TLogic>, changed);
      },
    });
    let deliver: (event: EventFrom<TLogic>) => void = actor.send;
    const journal = options.inspect ? undefined : options.journal;
    if (journal) {
      // Every event an actor receives, whoever sends it, reaches it through XState's system relay, which hands it to
      // the actor's internal `_send` (the one place XState's inspection stream reports `@xstate.event`): journaled
      // there.
      const internal = actor as unknown as Receiver<TLogic>;
      const receive = internal._send.bind(actor);
      // Bound to a name first: V8 allocates a function literal assigned straight to a property in its old space,
      // where it would keep what it closes over alive past the young generation's collections (bench/README.md).
      const journaledReceive = (event: EventFrom<TLogic>) => {
        journal(actorId, (event as { type: string }).type);
        receive(event);
      };
      internal._send = journaledReceive;
      deliver = receive;
      if (!waking) journal(actorId, 'xstate.init');
    }
    this.actors.set(key, { actor, unwatch, deliver });
    const onEmitted = options.onEmitted;
    if (onEmitted) actor.on('*', (event) => onEmitted(key, event as EmittedFrom<TLogic>));
    options.onCreated?.(key, actor);
    actor.start();
    quiet = false;
    return actor;
  }

  /** Stops and forgets an actor (its persisted rows stay). */
  remove(key: string): void {
    this.resting.delete(key);
    this.deferred.delete(key);
    const entry = this.actors.get(key);
    if (!entry) return;
    this.actors.delete(key);
    entry.unwatch();
    entry.actor.stop();
  }

  stopAll(): void {
    this.resting.clear();
    this.deferred.clear();
    for (const key of [...this.actors.keys()]) this.remove(key);
  }
}
