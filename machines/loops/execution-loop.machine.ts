// The execution loop: takes approved requests into a queue and starts them with a per-node concurrency limit
// (Proxmox's storage locks punish parallel clones on one node). Pure: starting a request is the named action
// `startExecution`, supplied by the runtime.
import { assign, setup } from 'xstate';
import { NotProvidedError } from '../unprovided';

export interface QueuedWork {
  requestId: string;
  node: string;
}

export interface ExecutionLoopInput {
  perNodeLimit: number;
}

export interface ExecutionLoopContext extends ExecutionLoopInput {
  queue: QueuedWork[];
  running: QueuedWork[];
}

export type ExecutionLoopEvent =
  /** An approved request to run in its turn. */
  | { type: 'ENQUEUE'; work: QueuedWork }
  /** A request that was already executing when the Overseer restarted: it holds its slot. */
  | { type: 'ADOPT_RUNNING'; work: QueuedWork }
  /** A request ended (any terminal state) or was cancelled while queued. */
  | { type: 'FINISHED'; requestId: string };

/** Which queued work starts now, in queue order, without exceeding the per-node limit. */
export function planDispatch(context: ExecutionLoopContext): { start: QueuedWork[]; queue: QueuedWork[] } {
  const busy = new Map<string, number>();
  for (const w of context.running) busy.set(w.node, (busy.get(w.node) ?? 0) + 1);
  const start: QueuedWork[] = [];
  const queue: QueuedWork[] = [];
  for (const w of context.queue) {
    const n = busy.get(w.node) ?? 0;
    if (n < context.perNodeLimit) {
      busy.set(w.node, n + 1);
      start.push(w);
    } else {
      queue.push(w);
    }
  }
  return { start, queue };
}

const known = (context: ExecutionLoopContext, requestId: string) =>
  context.queue.some((w) => w.requestId === requestId) || context.running.some((w) => w.requestId === requestId);

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
    enqueueWork: assign(({ context, event }) =>
      event.type === 'ENQUEUE' && !known(context, event.work.requestId)
        ? { queue: [...context.queue, event.work] }
        : {},
    ),
    adoptRunning: assign(({ context, event }) =>
      event.type === 'ADOPT_RUNNING' && !known(context, event.work.requestId)
        ? { running: [...context.running, event.work] }
        : {},
    ),
    forget: assign(({ context, event }) =>
      event.type === 'FINISHED'
        ? {
            queue: context.queue.filter((w) => w.requestId !== event.requestId),
            running: context.running.filter((w) => w.requestId !== event.requestId),
          }
        : {},
    ),
  },
});

export const executionLoopMachine = executionSetup
  .extend({
    actions: {
      dispatch: executionSetup.enqueueActions(({ context, enqueue }) => {
        const { start, queue } = planDispatch(context);
        if (start.length === 0) return;
        enqueue.assign({ queue, running: [...context.running, ...start] });
        for (const work of start) enqueue({ type: 'startExecution', params: work });
      }),
    },
  })
  .createMachine({
    id: 'execution',
    context: ({ input }) => ({ ...input, queue: [], running: [] }),
    initial: 'running',
    states: {
      running: {
        on: {
          ENQUEUE: { actions: ['enqueueWork', 'dispatch'] },
          ADOPT_RUNNING: { actions: ['adoptRunning', 'dispatch'] },
          FINISHED: { actions: ['forget', 'dispatch'] },
        },
      },
    },
  });

export type ExecutionLoopMachine = typeof executionLoopMachine;
