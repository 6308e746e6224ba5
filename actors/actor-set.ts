// A set of entity actors of one kind (VMs, hosts or requests): creates them, restores them from persisted
// snapshots, and watches each through the one state-change hook.
import type { Actor, AnyStateMachine, InputFrom, InspectionEvent, Observer, SnapshotFrom } from 'xstate';
import { createActor } from 'xstate';
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import type { StateChange } from './watch';
import { stateName, watchActor } from './watch';

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
  /** Called once per actor before it starts (to listen to what it emits). */
  onCreated?: (key: string, actor: Actor<TLogic>) => void;
}

export class ActorSet<TLogic extends AnyStateMachine> {
  private readonly actors = new Map<string, { actor: Actor<TLogic>; unwatch: () => void }>();

  private readonly options: ActorSetOptions<TLogic>;

  constructor(options: ActorSetOptions<TLogic>) {
    this.options = options;
  }

  get size(): number {
    return this.actors.size;
  }
  get(key: string): Actor<TLogic> | undefined {
    return this.actors.get(key)?.actor;
  }
  has(key: string): boolean {
    return this.actors.has(key);
  }
  keys(): IterableIterator<string> {
    return this.actors.keys();
  }
  *entries(): IterableIterator<[string, Actor<TLogic>]> {
    for (const [key, { actor }] of this.actors) yield [key, actor];
  }

  /** A new actor, logged as a change from 'none'. */
  create(key: string, input: InputFrom<TLogic>): Actor<TLogic> {
    return this.start(key, 'none', { input });
  }

  /** An actor restored from a persisted snapshot; a finished one (final state) is not brought back. */
  restore(key: string, persisted: unknown, input?: InputFrom<TLogic>): Actor<TLogic> | undefined {
    const snap = persisted as { status?: string; value?: unknown };
    if (snap.status !== 'active') return undefined;
    return this.start(key, stateName(snap.value as never), { snapshot: persisted, input });
  }

  private start(key: string, initial: string, extra: { input?: unknown; snapshot?: unknown }): Actor<TLogic> {
    const options = this.options;
    this.remove(key);
    const actorId = options.idOf(key);
    const actor = createActor(options.logic, {
      id: actorId,
      clock: options.clock,
      inspect: options.inspect,
      ...(extra.snapshot !== undefined ? { snapshot: extra.snapshot as never } : {}),
      ...(extra.input !== undefined ? { input: extra.input as never } : {}),
    });
    const unwatch = watchActor(actor, {
      actorId,
      log: options.log,
      initial,
      onStateChange: (change) => options.onStateChange?.(key, change as StateChange<SnapshotFrom<TLogic>>),
      onSnapshot: (snapshot, changed) => options.onSnapshot?.(key, snapshot as SnapshotFrom<TLogic>, changed),
    });
    this.actors.set(key, { actor, unwatch });
    options.onCreated?.(key, actor);
    actor.start();
    return actor;
  }

  /** Stops and forgets an actor (its persisted rows stay). */
  remove(key: string): void {
    const entry = this.actors.get(key);
    if (!entry) return;
    this.actors.delete(key);
    entry.unwatch();
    entry.actor.stop();
  }

  stopAll(): void {
    for (const key of [...this.actors.keys()]) this.remove(key);
  }
}
