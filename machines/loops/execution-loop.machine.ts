// The execution loop: takes approved requests into a queue and starts them with a per-node concurrency limit
// (Proxmox's storage locks punish parallel clones on one node). Pure: starting a request is the named action
// `startExecution`, supplied by the runtime.
// The work waits and runs in one list per node: an event changes, and looks for free slots on, only the node it is
// about (every other node is as full as its waiting work allows after each event), so a long queue costs nothing
// per enqueue beyond its own node.
import { setup } from 'xstate';
import { NotProvidedError } from '../unprovided';

export interface QueuedWork {
  requestId: string;
  node: string;
}

export interface ExecutionLoopInput {
  perNodeLimit: number;
}

/** Work by node, each list in queue order; a node with none has no entry. */
export type WorkByNode = Readonly<Record<string, readonly QueuedWork[]>>;

export interface ExecutionLoopContext extends ExecutionLoopInput {
  /** Approved work waiting for a slot on its node. */
  queued: WorkByNode;
  /** Work started (or adopted after a restart), holding a slot on its node. */
  running: WorkByNode;
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

/** Which of `node`'s waiting work starts now, in queue order, without exceeding the per-node limit. */
export function planDispatch(
  context: ExecutionLoopContext,
  node: string,
): { start: readonly QueuedWork[]; queued: readonly QueuedWork[] } {
  const waiting = context.queued[node] ?? [];
  const free = context.perNodeLimit - (context.running[node]?.length ?? 0);
  if (free <= 0 || waiting.length === 0) return { start: [], queued: waiting };
  return { start: waiting.slice(0, free), queued: waiting.slice(free) };
}

/** The node whose list holds `requestId`, if any. */
function nodeHolding(byNode: WorkByNode, requestId: string): string | undefined {
  for (const node in byNode) if (byNode[node]?.some((w) => w.requestId === requestId)) return node;
  return undefined;
}

/** `byNode` with `node`'s list replaced (removed when empty). */
function withList(byNode: WorkByNode, node: string, list: readonly QueuedWork[]): WorkByNode {
  if (list.length > 0) return { ...byNode, [node]: list };
  const { [node]: _gone, ...rest } = byNode;
  return rest;
}

/** All work of one kind, in node order then queue order. */
export const allWork = (byNode: WorkByNode): QueuedWork[] => Object.values(byNode).flat();

const known = (context: ExecutionLoopContext, requestId: string) =>
  nodeHolding(context.queued, requestId) !== undefined || nodeHolding(context.running, requestId) !== undefined;

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
  if (start.length === 0) return { next: context, start };
  return {
    next: {
      ...context,
      queued: withList(context.queued, node, queued),
      running: withList(context.running, node, [...(context.running[node] ?? []), ...start]),
    },
    start,
  };
}

export const executionLoopMachine = executionSetup
  .extend({
    actions: {
      enqueueWork: executionSetup.enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'ENQUEUE' || known(context, event.work.requestId)) return;
        const { node } = event.work;
        const added = {
          ...context,
          queued: withList(context.queued, node, [...(context.queued[node] ?? []), event.work]),
        };
        const { next, start } = dispatch(added, node);
        enqueue.assign({ queued: next.queued, running: next.running });
        for (const work of start) enqueue({ type: 'startExecution', params: work });
      }),
      resume: executionSetup.enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'RESUME') return;
        const seen = new Set(
          allWork(context.queued)
            .concat(allWork(context.running))
            .map((w) => w.requestId),
        );
        // Fresh lists (the context's own are never changed), appended to in order.
        const copy = (byNode: WorkByNode) =>
          Object.fromEntries(Object.entries(byNode).map(([node, list]) => [node, [...list]]));
        const running: Record<string, QueuedWork[]> = copy(context.running);
        const queued: Record<string, QueuedWork[]> = copy(context.queued);
        const add = (into: Record<string, QueuedWork[]>, work: QueuedWork) => {
          if (seen.has(work.requestId)) return;
          seen.add(work.requestId);
          const list = into[work.node];
          if (list) list.push(work);
          else into[work.node] = [work];
        };
        for (const work of event.running) add(running, work);
        for (const work of event.queued) add(queued, work);
        let next: ExecutionLoopContext = { ...context, queued, running };
        const starts: QueuedWork[] = [];
        for (const node of Object.keys(queued)) {
          const step = dispatch(next, node);
          next = step.next;
          starts.push(...step.start);
        }
        enqueue.assign({ queued: next.queued, running: next.running });
        for (const work of starts) enqueue({ type: 'startExecution', params: work });
      }),
      finish: executionSetup.enqueueActions(({ context, event, enqueue }) => {
        if (event.type !== 'FINISHED') return;
        const { requestId } = event;
        const drop = (byNode: WorkByNode, node: string | undefined): WorkByNode =>
          node === undefined
            ? byNode
            : withList(
                byNode,
                node,
                (byNode[node] ?? []).filter((w) => w.requestId !== requestId),
              );
        const fromQueue = nodeHolding(context.queued, requestId);
        const fromRunning = nodeHolding(context.running, requestId);
        if (fromQueue === undefined && fromRunning === undefined) return;
        const freed = {
          ...context,
          queued: drop(context.queued, fromQueue),
          running: drop(context.running, fromRunning),
        };
        const { next, start } = fromRunning === undefined ? { next: freed, start: [] } : dispatch(freed, fromRunning);
        enqueue.assign({ queued: next.queued, running: next.running });
        for (const work of start) enqueue({ type: 'startExecution', params: work });
      }),
    },
  })
  .createMachine({
    id: 'execution',
    context: ({ input }) => ({ ...input, queued: {}, running: {} }),
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
