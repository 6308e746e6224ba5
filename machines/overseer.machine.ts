// The Overseer root: spawns the four loop actors and supervises them like an OTP supervisor with a restart
// intensity: a loop that crashes (or stalls) is restarted, at most `maxRestarts` times within `withinMs`; past
// that the root escalates: it is degraded, tells whoever listens, and stops restarting that loop.
import { assign, emit, setup } from 'xstate';
import type { ExecutionLoopMachine } from './loops/execution-loop.machine';
import type { LoopName, PeriodicLoopMachine } from './loops/periodic-loop.machine';
import { LOOP_NAMES } from './loops/periodic-loop.machine';

export interface SupervisionPolicy {
  maxRestarts: number;
  withinMs: number;
}

export interface OverseerInput {
  supervision: SupervisionPolicy;
  intervals: { syncMs: number; monitorMs: number; healthMs: number };
  perNodeLimit: number;
  /** The injected clock's reading (restart times); the machine never reads the wall clock. */
  now: () => number;
}

export interface OverseerContext extends OverseerInput {
  /** Restart times per loop, oldest first, trimmed to the window. */
  restarts: Partial<Record<LoopName, number[]>>;
  /** Loops the root gave up on. */
  escalated: LoopName[];
}

export type OverseerEvent =
  /** The health loop saw a loop miss its heartbeats. */
  | { type: 'LOOP_STALLED'; loop: LoopName }
  /** An operator asks to try an escalated loop again. */
  | { type: 'RECOVER'; loop: LoopName };

export type OverseerEmitted =
  | { type: 'loopRestarted'; loop: LoopName; reason: string; restarts: number }
  | { type: 'escalated'; loop: LoopName; reason: string; restarts: number };

/** Which loop a child error event is about (`xstate.error.actor.<loop>`), if any. */
export function loopOfEvent(event: { type: string; loop?: LoopName }): LoopName | undefined {
  if (event.type === 'LOOP_STALLED' || event.type === 'RECOVER') return event.loop;
  const id = event.type.startsWith('xstate.error.actor.') ? event.type.slice('xstate.error.actor.'.length) : '';
  return (LOOP_NAMES as readonly string[]).includes(id) ? (id as LoopName) : undefined;
}

function reasonOf(event: { type: string; error?: unknown }): string {
  if (event.type === 'LOOP_STALLED') return 'missed its heartbeats';
  const e = event.error;
  return `crashed: ${e instanceof Error ? e.message : String(e)}`;
}

/** Restart times still inside the window, including one more restart now. */
export function restartsInWindow(history: readonly number[], now: number, policy: SupervisionPolicy): number[] {
  return [...history.filter((t) => now - t < policy.withinMs), now];
}

const overseerSetup = setup({
  types: {
    context: {} as OverseerContext,
    events: {} as OverseerEvent,
    input: {} as OverseerInput,
    emitted: {} as OverseerEmitted,
  },
  actors: {
    syncLoop: {} as PeriodicLoopMachine,
    monitorLoop: {} as PeriodicLoopMachine,
    healthLoop: {} as PeriodicLoopMachine,
    executionLoop: {} as ExecutionLoopMachine,
  },
  guards: {
    mayRestart: ({ context, event }) => {
      const loop = loopOfEvent(event);
      if (!loop || context.escalated.includes(loop)) return false;
      return (
        restartsInWindow(context.restarts[loop] ?? [], context.now(), context.supervision).length <=
        context.supervision.maxRestarts
      );
    },
    isLoopEvent: ({ context, event }) => {
      const loop = loopOfEvent(event);
      return loop !== undefined && !context.escalated.includes(loop);
    },
    allRecovered: ({ context }) => context.escalated.length === 0,
  },
  actions: {
    recordRestart: assign(({ context, event }) => {
      const loop = loopOfEvent(event);
      if (!loop) return {};
      return {
        restarts: {
          ...context.restarts,
          [loop]: restartsInWindow(context.restarts[loop] ?? [], context.now(), context.supervision),
        },
      };
    }),
    recordEscalation: assign(({ context, event }) => {
      const loop = loopOfEvent(event);
      return loop ? { escalated: [...context.escalated, loop] } : {};
    }),
    clearEscalation: assign(({ context, event }) => {
      const loop = loopOfEvent(event);
      return {
        escalated: context.escalated.filter((l) => l !== loop),
        restarts: { ...context.restarts, [loop ?? '']: [] },
      };
    }),
    reportRestart: emit(({ context, event }) => {
      const loop = loopOfEvent(event) as LoopName;
      return {
        type: 'loopRestarted' as const,
        loop,
        reason: reasonOf(event),
        restarts: context.restarts[loop]?.length ?? 0,
      };
    }),
    reportEscalation: emit(({ context, event }) => {
      const loop = loopOfEvent(event) as LoopName;
      return {
        type: 'escalated' as const,
        loop,
        reason: reasonOf(event),
        restarts: context.restarts[loop]?.length ?? 0,
      };
    }),
  },
});

const childIds: Record<LoopName, string> = {
  sync: 'sync',
  monitor: 'monitor',
  health: 'health',
  execution: 'execution',
};

const supervise = overseerSetup.extend({
  actions: {
    /** Stops the loop (if it still runs) and spawns a fresh one under the same id. */
    restartLoop: overseerSetup.enqueueActions(({ context, event, enqueue }) => {
      const loop = loopOfEvent(event);
      if (!loop) return;
      enqueue.stopChild(childIds[loop]);
      spawnLoop(loop, context, enqueue);
    }),
    spawnLoops: overseerSetup.enqueueActions(({ context, enqueue }) => {
      for (const loop of LOOP_NAMES) spawnLoop(loop, context, enqueue);
    }),
  },
});

type Enqueue = Parameters<Parameters<typeof overseerSetup.enqueueActions>[0]>[0]['enqueue'];

function spawnLoop(loop: LoopName, context: OverseerContext, enqueue: Enqueue): void {
  const common = { id: childIds[loop], systemId: `loop:${loop}` };
  switch (loop) {
    case 'sync':
      enqueue.spawnChild('syncLoop', { ...common, input: { name: 'sync', intervalMs: context.intervals.syncMs } });
      break;
    case 'monitor':
      enqueue.spawnChild('monitorLoop', {
        ...common,
        input: { name: 'monitor', intervalMs: context.intervals.monitorMs },
      });
      break;
    case 'health':
      enqueue.spawnChild('healthLoop', {
        ...common,
        input: { name: 'health', intervalMs: context.intervals.healthMs },
      });
      break;
    case 'execution':
      enqueue.spawnChild('executionLoop', { ...common, input: { perNodeLimit: context.perNodeLimit } });
      break;
  }
}

const childFailure = [
  { guard: 'mayRestart', actions: ['recordRestart', 'restartLoop', 'reportRestart'] },
  {
    guard: 'isLoopEvent',
    target: '#overseer.degraded',
    actions: ['recordRestart', 'recordEscalation', 'reportEscalation'],
  },
] as const;

export const overseerMachine = supervise.createMachine({
  id: 'overseer',
  context: ({ input }) => ({ ...input, restarts: {}, escalated: [] }),
  initial: 'running',
  entry: 'spawnLoops',
  on: {
    'xstate.error.actor.*': childFailure,
    LOOP_STALLED: childFailure,
  },
  states: {
    running: {},
    degraded: {
      on: {
        RECOVER: { actions: ['clearEscalation', 'restartLoop'], target: 'recovering' },
      },
    },
    recovering: {
      always: [{ guard: 'allRecovered', target: 'running' }, { target: 'degraded' }],
    },
  },
});

export type OverseerMachine = typeof overseerMachine;
