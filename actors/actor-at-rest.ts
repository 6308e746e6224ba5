// An event for an actor at rest (see ActorSet's `passivate`), handled without bringing the actor back: the machine's
// own pure transition is run in one scope the set reuses, and what a running actor would do after its transition is
// done here, in the same order (XState's `Actor.update`): the new snapshot is kept, the work the transition deferred
// (for passivated logic: its emitted events) runs, then the watch hook (actors/watch.ts) sees the snapshot.
// Anything a running actor would end differently (a transition that throws, a final or failed snapshot, a child) is
// left to one: nothing is kept of the transition, and the set wakes the actor and hands it the event.
import type { AnyActorScope, AnyStateMachine, EmittedFrom, EventFrom, SnapshotFrom } from 'xstate';
import { createActor } from 'xstate';
import type { Log } from '../adapters/log';
import type { StateChange } from './watch';
import { stateName } from './watch';

/** What of the set's options handling an event at rest needs (see ActorSetOptions). */
export interface AtRestOptions<TLogic extends AnyStateMachine> {
  logic: TLogic;
  idOf: (key: string) => string;
  log: Log;
  onStateChange?: ((key: string, change: StateChange<SnapshotFrom<TLogic>>) => void) | undefined;
  onSnapshot?: ((key: string, snapshot: SnapshotFrom<TLogic>, stateChanged: boolean) => void) | undefined;
  onEmitted?: ((key: string, event: EmittedFrom<TLogic>) => void) | undefined;
}

export class AtRest<TLogic extends AnyStateMachine> {
  private readonly scope: AnyActorScope;
  /** Work the transitions under way deferred (each takes its own off the end: see `handle`). */
  private readonly deferred: (() => void)[] = [];
  /** The key whose deferred work is running (what it emits is that actor's). */
  private emitKey: string | undefined;
  /** Keys being handled right now, innermost last (more than one only when a hook sends to another actor). */
  private readonly active: string[] = [];
  /**
   * Events sent to an actor while it is being handled (by a hook it called), by key: as in a running actor's mailbox,
   * they wait until the one under way has been seen by the watch hook.
   */
  private readonly waiting = new Map<string, EventFrom<TLogic>[]>();

  /**
   * @param resting the set's snapshots at rest (updated here)
   * @param wake how the set brings the actor back from `snapshot` and hands it an event (already journaled)
   * @param resend how the set hands on an event that waited (already journaled; the actor may have been woken)
   */
  constructor(
    private readonly options: AtRestOptions<TLogic>,
    private readonly resting: Map<string, SnapshotFrom<TLogic>>,
    private readonly wake: (key: string, snapshot: SnapshotFrom<TLogic>, event: EventFrom<TLogic>) => void,
    private readonly resend: (key: string, event: EventFrom<TLogic>) => void,
  ) {
    // The scope's `self` is an actor of the logic that is never started (made without input, its own initial state
    // is an error nobody reads): passivated logic does not use it. Its system has no inspection observer.
    const self = createActor(options.logic);
    this.scope = {
      self,
      id: '',
      sessionId: '',
      logger: (self as unknown as { logger: AnyActorScope['logger'] }).logger,
      system: self.system,
      defer: (fn) => {
        this.deferred.push(fn);
      },
      emit: (emitted) => this.emit(emitted as EmittedFrom<TLogic>),
      // Passivated logic has no children: a transition asking to stop one fails, and a running actor handles it.
      stopChild: () => {
        throw new Error('an actor at rest has no child to stop');
      },
      // As a running actor does once started: its actions run as the transition resolves them.
      actionExecutor: (action) => {
        action.exec?.(action.info, action.params);
      },
    };
  }

  /**
   * Handles `event` (journaled by the set as it was sent) for the actor at rest under `key` (in `snapshot`, its
   * resting one) as a running actor would: 'rest' when it was handled at rest (or waits for the one under way),
   * 'live' when it was left to the actor brought back (see the header).
   */
  handle(key: string, snapshot: SnapshotFrom<TLogic>, event: EventFrom<TLogic>): 'rest' | 'live' {
    const active = this.active;
    const waiting = this.waiting;
    if (active.includes(key)) {
      const queue = waiting.get(key);
      if (queue) queue.push(event);
      else waiting.set(key, [event]);
      return 'rest';
    }
    active.push(key);
    try {
      return this.step(key, snapshot, event);
    } finally {
      active.pop();
      const queue = waiting.size > 0 ? waiting.get(key) : undefined;
      if (queue) {
        waiting.delete(key);
        for (const e of queue) this.resend(key, e);
      }
    }
  }

  private step(key: string, snapshot: SnapshotFrom<TLogic>, event: EventFrom<TLogic>): 'rest' | 'live' {
    const { options, deferred } = this;
    // A transition may run inside another's (an action sending to another actor of the set): each takes the deferred
    // work it added, from `mark` on.
    const mark = deferred.length;
    let next: SnapshotFrom<TLogic> | undefined;
    try {
      next = options.logic.transition(snapshot, event, this.scope) as SnapshotFrom<TLogic>;
    } catch {
      // Left to the running actor: the transition is pure (passivated logic's actions only compute), so it throws
      // the same there and the actor fails as it always did.
    }
    const { status, children } = (next ?? {}) as { status?: string; children?: object };
    if (!next || status !== 'active' || (children !== undefined && !isEmpty(children))) {
      deferred.length = mark;
      this.wake(key, snapshot, event);
      return 'live';
    }
    const work = deferred.length > mark ? deferred.splice(mark) : undefined;
    this.resting.set(key, next);
    if (work) this.runDeferred(key, work);
    this.watch(key, options.idOf(key), snapshot, next);
    return 'rest';
  }

  /**
   * The deferred work of one transition, in order, after its snapshot is set and before it is seen. For passivated
   * logic that is its emitted events, which never throw (a handler's error is reported apart); anything else that
   * throws is reported the same way (a running actor would fail instead: such logic must not be passivated).
   */
  private runDeferred(key: string, work: (() => void)[]): void {
    const outer = this.emitKey;
    this.emitKey = key;
    try {
      for (const fn of work) {
        try {
          fn();
        } catch (err) {
          reportUnhandledError(err);
        }
      }
    } finally {
      this.emitKey = outer;
    }
  }

  /** An emitted event, to the set's handler, as a running actor hands it to its listeners. */
  private emit(emitted: EmittedFrom<TLogic>): void {
    const key = this.emitKey;
    const onEmitted = this.options.onEmitted;
    if (key === undefined || !onEmitted) return;
    try {
      onEmitted(key, emitted);
    } catch (err) {
      reportUnhandledError(err);
    }
  }

  /**
   * What `watchActor`'s observer does with the snapshot (its state before is the resting one's): the state-change
   * line and hook when the state name changed, the snapshot always (also when it is the same object). An error in
   * them is reported apart, as XState reports an observer's.
   */
  private watch(key: string, actorId: string, before: SnapshotFrom<TLogic>, next: SnapshotFrom<TLogic>): void {
    const { options } = this;
    try {
      const from = stateName((before as { value: never }).value);
      const to = next === before ? from : stateName((next as { value: never }).value);
      const changed = to !== from;
      if (changed) {
        options.log.stateChange(actorId, from, to);
        options.onStateChange?.(key, { actorId, from, to, snapshot: next });
      }
      options.onSnapshot?.(key, next, changed);
    } catch (err) {
      reportUnhandledError(err);
    }
  }
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/** As XState reports an error it caught in a listener or observer: thrown on its own, outside the caller. */
function reportUnhandledError(err: unknown): void {
  setTimeout(() => {
    throw err;
  });
}
