// The execution loop: takes approved requests into a queue and starts them with a per-node concurrency limit
// (Proxmox's storage locks punish parallel clones on one node). Pure: starting a request is the named action
// `startExecution`, supplied by the runtime.
// The work waits in one list per node and runs in one map per node: an event changes, and looks for free slots on,
// only the node it is about (every other node is as full as its waiting work allows after each event). The lists,
// the maps and the index of each request's work are persistent collections (Immutable.js): a new context shares all
// the event did not touch, so enqueueing, finishing and starting cost the same with a backlog of 30,000 as with none.
// (Arrays and records copied per event, and searched whole for a request, made each event cost in proportion to the
// backlog: 200 µs per event with 30,000 requests queued.) A request that ends while it waits only leaves the index;
// its entry stays in its node's list, skipped when the list's front reaches it (an entry is live while the index
// holds that very entry).
import { Map as ImmutableMap, List, OrderedMap } from 'immutable';
import { setup } from 'xstate';
import { NotProvidedError } from '../unprovided';

export interface QueuedWork {
  requestId: string;
  node: string;
}

export interface ExecutionLoopInput {
  perNodeLimit: number;
}

/** One node's waiting work, in queue order (entries of requests that ended while waiting included: see above). */
export type NodeQueue = List<QueuedWork>;
/** One node's running work by request id. */
export type NodeRunning = OrderedMap<string, QueuedWork>;

export interface ExecutionLoopContext extends ExecutionLoopInput {
  /** Approved work waiting for a slot on its node; a node with none has no entry. */
  queued: ImmutableMap<string, NodeQueue>;
  /** Work started (or adopted after a restart), holding a slot on its node; a node with none has no entry. */
  running: ImmutableMap<string, NodeRunning>;
  /** The work of every request queued or running, by request id. */
  workById: ImmutableMap<string, QueuedWork>;
}

export type ExecutionLoopEvent =
  /** An approved request to run in its turn. */
  | { type: 'ENQUEUE'; work: QueuedWork }
  /**
   * Every request a new (or restarted) loop takes over at once: those already executing (after a restart) hold their
   * slots; those queued wait in the given order, as ENQUEUE for each would have them, in one step.
   */
  | { type: 'RESUME'; running: readonly QueuedWork[]; queued: readonly QueuedWork[] }
  /** A request ended (any terminal state) or was cancelled while queued. */
  | { type: 'FINISHED'; requestId: string };

const NO_QUEUE: NodeQueue = List();
const NOT_RUNNING: NodeRunning = OrderedMap();

/**
 * Which of `node`'s waiting work starts now, in queue order, without exceeding the per-node limit, and the node's
 * queue after it (the entries of requests that ended while waiting dropped from its front).
 */
export function planDispatch(
  context: ExecutionLoopContext,
  node: string,
): { start: readonly QueuedWork[]; queued: NodeQueue } {
  let queue = context.queued.get(node) ?? NO_QUEUE;
  let free = context.perNodeLimit - (context.running.get(node)?.size ?? 0);
  const start: QueuedWork[] = [];
  while (queue.size > 0) {
    const first = queue.first() as QueuedWork;
    const live = context.workById.get(first.requestId) === first;
    if (live && free <= 0) break;
    queue = queue.shift();
    if (live) {
      start.push(first);
      free--;
    }
  }
  return { start, queued: queue };
}

/** The waiting work (queued) or the running work, in node order then queue order. */
export function allWork(context: ExecutionLoopContext, kind: 'queued' | 'running'): QueuedWork[] {
  if (kind === 'running') return [...context.running.valueSeq().flatMap((work) => work.valueSeq())];
  const live = (w: QueuedWork) => context.workById.get(w.requestId) === w;
  return [...context.queued.valueSeq().flatMap((queue) => queue.filter(live))];
}

/** `byNode` with `node`'s collection replaced (removed when empty). */
function withNode<C extends { size: number }>(byNode: ImmutableMap<string, C>, node: string, c: C) {
  return c.size > 0 ? byNode.set(node, c) : byNode.delete(node);
}

const queuing = (queued: ExecutionLoopContext['queued'], work: QueuedWork) =>
  queued.set(work.node, (queued.get(work.node) ?? NO_QUEUE).push(work));
const holding = (running: ExecutionLoopContext['running'], work: QueuedWork) =>
  running.set(work.node, (running.get(work.node) ?? NOT_RUNNING).set(work.requestId, work));

const executionSetup = setup({
  types: {
    context: {} as ExecutionLoopContext,
    events: {} as ExecutionLoopEvent,
    input: {} as ExecutionLoopInput,
  },
  actions: {
    startExecution: (_, _params: QueuedWork): void => {
      throw new NotProvidedError('startExecution');
    },
  },
});

/** The context after `node`'s free slots took its waiting work, and the work to start. */
function dispatch(
  context: ExecutionLoopContext,
  node: string,
): { next: ExecutionLoopContext; start: readonly QueuedWork[] } {
  const { start, queued } = planDispatch(context, node);
  let running = context.running;
  for (const work of start) running = holding(running, work);
  return { next: { ...context, queued: withNode(context.queued, node, queued), running }, start };
}

export const executionLoopMachine = executionSetup
  .extend({
    actions: {
      enqueueWork: executionSetup.enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'ENQUEUE' || context.workById.has(event.work.requestId)) return;
        const { work } = event;
        const added = {
          ...context,
          queued: queuing(context.queued, work),
          workById: context.workById.set(work.requestId, work),
        };
        const { next, start } = dispatch(added, work.node);
        enqueue.assign({ queued: next.queued, running: next.running, workById: next.workById });
        for (const w of start) enqueue({ type: 'startExecution', params: w });
      }),
      resume: executionSetup.enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'RESUME') return;
        let { queued, running, workById } = context;
        // Duplicates (of each other, or of work the loop holds) are taken once, where they first appear.
        const isNew = (work: QueuedWork) => {
          if (workById.has(work.requestId)) return false;
          workById = workById.set(work.requestId, work);
          return true;
        };
        for (const work of event.running) if (isNew(work)) running = holding(running, work);
        for (const work of event.queued) if (isNew(work)) queued = queuing(queued, work);
        let next: ExecutionLoopContext = { ...context, queued, running, workById };
        const starts: QueuedWork[] = [];
        for (const node of queued.keys()) {
          const step = dispatch(next, node);
          next = step.next;
          starts.push(...step.start);
        }
        enqueue.assign({ queued: next.queued, running: next.running, workById: next.workById });
        for (const work of starts) enqueue({ type: 'startExecution', params: work });
      }),
      finish: executionSetup.enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'FINISHED') return;
        const work = context.workById.get(event.requestId);
        if (!work) return;
        const workById = context.workById.delete(event.requestId);
        const slots = context.running.get(work.node);
        // Ended while waiting: it held no slot (its queue entry is skipped from now on).
        if (!slots?.has(event.requestId)) {
          enqueue.assign({ workById });
          return;
        }
        const freed = {
          ...context,
          running: withNode(context.running, work.node, slots.delete(event.requestId)),
          workById,
        };
        const { next, start } = dispatch(freed, work.node);
        enqueue.assign({ queued: next.queued, running: next.running, workById });
        for (const w of start) enqueue({ type: 'startExecution', params: w });
      }),
    },
  })
  .createMachine({
    id: 'execution',
    context: ({ input }) => ({ ...input, queued: ImmutableMap(), running: ImmutableMap(), workById: ImmutableMap() }),
    initial: 'running',
    states: {
      running: {
        on: {
          ENQUEUE: { actions: 'enqueueWork' },
          RESUME: { actions: 'resume' },
          FINISHED: { actions: 'finish' },
        },
      },
    },
  });

export type ExecutionLoopMachine = typeof executionLoopMachine;
