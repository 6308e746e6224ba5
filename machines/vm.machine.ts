// The VM actor (`vm:<cluster>/<vmid>`): what Overseer knows of one VM, driven by observations from the state sync
// loop and by the requests that operate on it. Pure: no I/O, no clock (times arrive inside events).
import { and, assign, emit, setup } from 'xstate';
import type { Action, VmInfo, VmPowerStatus } from './types';
import type { VmStopCause } from './vm-stop';

export interface VmContext {
  info: VmInfo;
  /** epoch ms of the last observation */
  lastSeen: number;
  /** How many complete, quorate inventory answers in a row have lacked this VM. */
  missing: number;
  /** The request operating on this VM right now, if any. */
  operation?: { requestId: string; action: Action } | undefined;
  lastOperation?: { requestId: string; action: Action; ok: boolean } | undefined;
  /** The last time it was seen stopping while running with no request of its own under way, and why. */
  lastStop?: { at: number; cause: VmStopCause } | undefined;
  /** Observations in a row that saw it stopped while its task log could not be read (it stays running meanwhile). */
  unexplainedStops?: number | undefined;
}

export interface VmInput {
  info: VmInfo;
  at: number;
}

export type VmEvent =
  /**
   * The platform reported this VM. `stop` says why it stopped when it was running and is stopped now (read from
   * the platform's task log); without it a stop is taken as unexplained.
   */
  | { type: 'OBSERVED'; info: VmInfo; at: number; stop?: VmStopCause | undefined }
  /** The VM's node or cluster could not be read: its state is unknown (never "gone"). */
  | { type: 'UNREACHABLE'; at: number }
  /** A complete, quorate inventory answer lacked this VM. */
  | { type: 'MISSING'; at: number }
  | { type: 'OPERATION_STARTED'; requestId: string; action: Action }
  | { type: 'OPERATION_ENDED'; requestId: string; ok: boolean };

/** Emitted when something happened to the VM that no request explains. */
export type VmIssue = {
  type: 'issue';
  kind: 'unexpected-stop' | 'vanished';
  cluster: string;
  vmid: number;
  at: number;
  detail: string;
};

/**
 * Emitted when a running VM stopped because someone decided so — an operator's task (even one made with
 * Overseer's own API token), or HA's requested state: recorded and left alone, not an issue.
 */
export type VmStoppedNotice = {
  type: 'stopped';
  by: 'operator' | 'ha';
  cluster: string;
  vmid: number;
  /** epoch ms the stop was seen */
  at: number;
  /** who issued the task (user@realm or user@realm!token) */
  user?: string | undefined;
  upid?: string | undefined;
  /** the task's type (qmstop, qmshutdown, hastop, ...) */
  task?: string | undefined;
  /** epoch ms the task started */
  taskAt?: number | undefined;
  haState?: string | undefined;
  detail: string;
};

/** A VM missing from this many complete, quorate answers in a row is taken as destroyed outside Overseer. */
export const MISSING_LIMIT = 2;

/** Observations of a stop whose task log could not be read before it is taken as unexplained (an issue). */
export const UNEXPLAINED_STOP_LIMIT = 3;

const stopOf = (event: VmEvent): VmStopCause | undefined => (event.type === 'OBSERVED' ? event.stop : undefined);

/** The VM's state while a request works on it; a `command` runs inside the guest and leaves it as it is. */
const OPERATION_STATE: Readonly<Partial<Record<Action, string>>> = {
  start: 'starting',
  stop: 'stopping',
  shutdown: 'shuttingDown',
  reboot: 'rebooting',
  suspend: 'suspending',
  resume: 'resuming',
  deploy: 'cloning',
  snapshot: 'snapshotting',
  destroy: 'destroying',
  migrate: 'migrating',
  rollback: 'rollingBack',
  delsnapshot: 'deletingSnapshot',
};

/** Power status a VM has after an operation succeeded (undefined: unchanged). */
const STATUS_AFTER: Readonly<Partial<Record<Action, VmPowerStatus>>> = {
  start: 'running',
  reboot: 'running',
  resume: 'running',
  stop: 'stopped',
  shutdown: 'stopped',
  suspend: 'paused',
};

const vmSetup = setup({
  types: {
    context: {} as VmContext,
    events: {} as VmEvent,
    input: {} as VmInput,
    emitted: {} as VmIssue | VmStoppedNotice,
  },
  guards: {
    isLocked: ({ context }) => Boolean(context.info.lock),
    isRunning: ({ context }) => context.info.status === 'running',
    isStopped: ({ context }) => context.info.status === 'stopped',
    isPaused: ({ context }) => context.info.status === 'paused',
    observedLocked: ({ event }) => event.type === 'OBSERVED' && Boolean(event.info.lock),
    observedRunning: ({ event }) => event.type === 'OBSERVED' && event.info.status === 'running',
    observedStopped: ({ event }) => event.type === 'OBSERVED' && event.info.status === 'stopped',
    observedPaused: ({ event }) => event.type === 'OBSERVED' && event.info.status === 'paused',
    /** Someone else's decision: a task Overseer did not issue, or HA's requested state. */
    stoppedByOthers: ({ event }) => {
      const stop = stopOf(event);
      return stop !== undefined && ((stop.by === 'task' && stop.requestId === undefined) || stop.by === 'ha');
    },
    stoppedByOwnTask: ({ event }) => {
      const stop = stopOf(event);
      return stop?.by === 'task' && stop.requestId !== undefined;
    },
    stopNotYetExplained: ({ context, event }) =>
      stopOf(event)?.by === 'unknown' && (context.unexplainedStops ?? 0) + 1 < UNEXPLAINED_STOP_LIMIT,
    missingLimitReached: ({ context }) => context.missing + 1 >= MISSING_LIMIT,
    isOperation: ({ event }, params: { action: Action }) =>
      event.type === 'OPERATION_STARTED' && event.action === params.action,
    destroySucceeded: ({ context, event }) =>
      event.type === 'OPERATION_ENDED' && event.ok && context.operation?.action === 'destroy',
    isOwnOperation: ({ context, event }) =>
      event.type === 'OPERATION_ENDED' && context.operation?.requestId === event.requestId,
  },
  actions: {
    recordObservation: assign(({ context, event }) =>
      event.type === 'OBSERVED'
        ? { info: event.info, lastSeen: event.at, missing: 0, unexplainedStops: undefined }
        : context,
    ),
    recordStop: assign(({ event }) =>
      event.type === 'OBSERVED' ? { lastStop: { at: event.at, cause: event.stop ?? { by: 'none' as const } } } : {},
    ),
    countUnexplainedStop: assign(({ context }) => ({ unexplainedStops: (context.unexplainedStops ?? 0) + 1 })),
    announceStop: emit(({ context, event }) => {
      const stop = stopOf(event);
      const { cluster, vmid, name } = context.info;
      const at = event.type === 'OBSERVED' ? event.at : context.lastSeen;
      const label = `VM ${cluster}/${vmid} (${name})`;
      if (stop?.by === 'task') {
        return {
          type: 'stopped' as const,
          by: 'operator' as const,
          cluster,
          vmid,
          at,
          user: stop.user,
          upid: stop.upid,
          task: stop.type,
          taskAt: stop.at,
          detail: `${label} was stopped by ${stop.user} (task ${stop.type}): left alone`,
        };
      }
      const haState = stop?.by === 'ha' ? stop.haState : undefined;
      return {
        type: 'stopped' as const,
        by: 'ha' as const,
        cluster,
        vmid,
        at,
        haState,
        detail: `${label} is HA-managed and HA's requested state is '${haState}': left to HA`,
      };
    }),
    recordUnreachable: assign(({ context }) => ({ info: { ...context.info, status: 'unknown' as const } })),
    countMissing: assign(({ context }) => ({ missing: context.missing + 1 })),
    recordOperation: assign(({ event }) =>
      event.type === 'OPERATION_STARTED' ? { operation: { requestId: event.requestId, action: event.action } } : {},
    ),
    finishOperation: assign(({ context, event }) => {
      if (event.type !== 'OPERATION_ENDED' || !context.operation) return {};
      const after = event.ok ? STATUS_AFTER[context.operation.action] : undefined;
      return {
        info: after ? { ...context.info, status: after } : context.info,
        operation: undefined,
        lastOperation: { ...context.operation, ok: event.ok },
      };
    }),
    raiseUnexpectedStop: emit(({ context, event }) => ({
      type: 'issue' as const,
      kind: 'unexpected-stop' as const,
      cluster: context.info.cluster,
      vmid: context.info.vmid,
      at: event.type === 'OBSERVED' ? event.at : context.lastSeen,
      detail:
        `VM ${context.info.cluster}/${context.info.vmid} (${context.info.name}) stopped with no request behind it` +
        (stopOf(event)?.by === 'unknown' ? ' (its task log could not be read)' : ''),
    })),
    raiseVanished: emit(({ context, event }) => ({
      type: 'issue' as const,
      kind: 'vanished' as const,
      cluster: context.info.cluster,
      vmid: context.info.vmid,
      at: event.type === 'MISSING' ? event.at : context.lastSeen,
      detail: `VM ${context.info.cluster}/${context.info.vmid} (${context.info.name}) is gone from the platform with no request behind it`,
    })),
  },
});

type VmActionName = 'recordObservation' | 'recordStop' | 'announceStop' | 'raiseUnexpectedStop';
type StopGuard = 'observedStopped' | 'observedLocked' | 'stoppedByOthers' | 'stoppedByOwnTask';

/**
 * An observation goes straight to the state the platform reports, in one step: what `discovered` works out from the
 * context after it is recorded, worked out here from the observation itself (a VM change is one XState microstep,
 * not two). `prefix` '.' targets a child of the root, '' a sibling.
 */
const routeObservation = (prefix: '.' | '', actions: VmActionName[]) =>
  [
    { guard: 'observedLocked' as const, target: `${prefix}locked`, actions },
    { guard: 'observedRunning' as const, target: `${prefix}running`, actions },
    { guard: 'observedStopped' as const, target: `${prefix}stopped`, actions },
    { guard: 'observedPaused' as const, target: `${prefix}paused`, actions },
    { target: `${prefix}unknown`, actions },
  ] as const;

/** A running VM seen stopped, for the reason `why` says (undefined: any): to `stopped`, or `locked` under a lock. */
const routeStop = (why: 'stoppedByOthers' | 'stoppedByOwnTask' | undefined, actions: VmActionName[]) => {
  const stopped: StopGuard[] = why ? ['observedStopped', why] : ['observedStopped'];
  return [
    { guard: and([...stopped, 'observedLocked']), target: 'locked', actions },
    { guard: and(stopped), target: 'stopped', actions },
  ] as const;
};

/**
 * An operation state: observations update what is known but do not move the VM until the request that
 * operates on it ends (the request, not a passing observation, says how it went).
 */
const operationState = {
  on: {
    OBSERVED: { actions: 'recordObservation' },
    UNREACHABLE: { actions: 'recordUnreachable' },
    MISSING: { actions: 'countMissing' },
    OPERATION_STARTED: {},
    OPERATION_ENDED: [
      { guard: 'destroySucceeded', target: 'destroyed', actions: 'finishOperation' },
      { guard: 'isOwnOperation', target: 'discovered', actions: 'finishOperation' },
    ],
  },
} as const;

const operationTransitions = (Object.keys(OPERATION_STATE) as Action[]).map((action) => ({
  guard: { type: 'isOperation' as const, params: { action } },
  target: `#vm.${OPERATION_STATE[action]}`,
  actions: 'recordOperation' as const,
}));

export const vmMachine = vmSetup.createMachine({
  id: 'vm',
  context: ({ input }) => ({ info: input.info, lastSeen: input.at, missing: 0 }),
  initial: 'discovered',
  on: {
    OBSERVED: routeObservation('.', ['recordObservation']),
    UNREACHABLE: { target: '.unknown', actions: 'recordUnreachable' },
    MISSING: [
      { guard: 'missingLimitReached', target: '.destroyed', actions: ['countMissing', 'raiseVanished'] },
      { actions: 'countMissing' },
    ],
    OPERATION_STARTED: operationTransitions,
  },
  states: {
    // Routes to the state the platform reports: where a VM starts, and where an operation's end leaves it.
    discovered: {
      always: [
        { guard: 'isLocked', target: 'locked' },
        { guard: 'isRunning', target: 'running' },
        { guard: 'isStopped', target: 'stopped' },
        { guard: 'isPaused', target: 'paused' },
        { target: 'unknown' },
      ],
    },
    running: {
      on: {
        OBSERVED: [
          ...routeStop('stoppedByOthers', ['recordObservation', 'recordStop', 'announceStop']),
          ...routeStop('stoppedByOwnTask', ['recordObservation', 'recordStop']),
          // The task log could not be read: stay running and look again at the next observation.
          { guard: and(['observedStopped', 'stopNotYetExplained']), actions: 'countUnexplainedStop' },
          ...routeStop(undefined, ['recordObservation', 'recordStop', 'raiseUnexpectedStop']),
          ...routeObservation('', ['recordObservation']),
        ],
      },
    },
    stopped: {},
    paused: {},
    locked: {},
    unknown: {},
    starting: operationState,
    stopping: operationState,
    shuttingDown: operationState,
    rebooting: operationState,
    suspending: operationState,
    resuming: operationState,
    cloning: operationState,
    snapshotting: operationState,
    destroying: operationState,
    migrating: operationState,
    rollingBack: operationState,
    deletingSnapshot: operationState,
    destroyed: { type: 'final' },
  },
});

export type VmMachine = typeof vmMachine;
export const VM_OPERATION_STATES: ReadonlySet<string> = new Set(Object.values(OPERATION_STATE));
