// A loop that does one unit of work every interval: the state sync, monitor and health loops are this machine
// with their own `work` actor supplied by the runtime. A failed cycle is recorded and retried next interval;
// only an error in the loop itself (not in its work) crashes it, and the Overseer root restarts it. RUN_NOW starts a
// cycle at once; one that comes while a cycle works starts the next as soon as that one ends (however many came).
import { assign, emit, setup } from 'xstate';
import { unprovidedPromise } from '../unprovided';

export const LOOP_NAMES = ['sync', 'monitor', 'health', 'execution'] as const;
export type LoopName = (typeof LOOP_NAMES)[number];

export interface PeriodicLoopInput {
  name: Exclude<LoopName, 'execution'>;
  intervalMs: number;
}

export interface PeriodicLoopContext extends PeriodicLoopInput {
  cycles: number;
  /** A RUN_NOW came while a cycle was working: the next cycle starts as soon as this one ends. */
  runNowPending: boolean;
  /** Failed cycles in a row. */
  failures: number;
  lastError?: string | undefined;
}

export type PeriodicLoopEvent = { type: 'RUN_NOW' };

/** What a loop tells whoever listens (the runtime turns these into NATS loop events and heartbeats). */
export type LoopEmitted =
  | { type: 'cycle'; loop: string; cycles: number }
  | { type: 'cycleFailed'; loop: string; failures: number; error: string };

export const periodicLoopMachine = setup({
  types: {
    context: {} as PeriodicLoopContext,
    events: {} as PeriodicLoopEvent,
    input: {} as PeriodicLoopInput,
    emitted: {} as LoopEmitted,
  },
  actors: {
    work: unprovidedPromise<void, { loop: string; cycle: number }>('work'),
  },
  guards: {
    runNowPending: ({ context }) => context.runNowPending,
  },
  delays: {
    interval: ({ context }) => context.intervalMs,
  },
  actions: {
    noteRunNow: assign({ runNowPending: true }),
    clearRunNow: assign({ runNowPending: false }),
    recordCycle: assign(({ context }) => ({ cycles: context.cycles + 1, failures: 0, lastError: undefined })),
    recordFailure: assign(({ context }, error: unknown) => ({
      cycles: context.cycles + 1,
      failures: context.failures + 1,
      lastError: error instanceof Error ? error.message : String(error),
    })),
    reportCycle: emit(({ context }) => ({ type: 'cycle' as const, loop: context.name, cycles: context.cycles })),
    reportFailure: emit(({ context }) => ({
      type: 'cycleFailed' as const,
      loop: context.name,
      failures: context.failures,
      error: context.lastError ?? 'unknown error',
    })),
  },
}).createMachine({
  id: 'loop',
  context: ({ input }) => ({ ...input, cycles: 0, failures: 0, runNowPending: false }),
  initial: 'working',
  states: {
    idle: {
      // A cycle asked for while the last one worked may have been asked for after that one read what it reads.
      always: { guard: 'runNowPending', target: 'working' },
      after: { interval: 'working' },
      on: { RUN_NOW: 'working' },
    },
    working: {
      entry: 'clearRunNow',
      on: { RUN_NOW: { actions: 'noteRunNow' } },
      invoke: {
        src: 'work',
        input: ({ context }) => ({ loop: context.name, cycle: context.cycles + 1 }),
        onDone: { target: 'idle', actions: ['recordCycle', 'reportCycle'] },
        onError: {
          target: 'idle',
          actions: [
            { type: 'recordFailure', params: ({ event }: { event: { error: unknown } }) => event.error },
            'reportFailure',
          ],
        },
      },
    },
  },
});

export type PeriodicLoopMachine = typeof periodicLoopMachine;
