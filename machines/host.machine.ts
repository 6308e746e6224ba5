// The host actor (`host:<cluster>/<node>`): online, degraded (overloaded, no quorum, or unresponsive), offline
// after a grace period of unresponsiveness, unknown when the cluster itself cannot be read. Pure: the grace timer
// is a named actor the runtime supplies (so it survives a restart), thresholds come from input.
import { assign, setup } from 'xstate';
import type { DeadlineInput } from './request.machine';
import type { HostInfo } from './types';
import { unprovidedCallback } from './unprovided';

export interface HostThresholds {
  /** CPU fraction above which the host is overloaded. */
  cpu: number;
  /** Memory fraction above which the host is overloaded. */
  mem: number;
  /** How long a node may be unresponsive before it is offline. */
  offlineGraceMs: number;
}

export interface HostContext {
  info: HostInfo;
  quorate: boolean;
  lastSeen: number;
  /** epoch ms since when the node has been reported unreachable */
  unresponsiveSince?: number | undefined;
  thresholds: HostThresholds;
}

export interface HostInput {
  info: HostInfo;
  quorate: boolean;
  at: number;
  thresholds: HostThresholds;
}

export type HostEvent =
  /** The platform reported this node (status online or offline) and the cluster's quorum. */
  | { type: 'OBSERVED'; info: HostInfo; quorate: boolean; at: number }
  /** The cluster could not be read at all: nothing is known about this node. */
  | { type: 'CLUSTER_UNREACHABLE'; at: number }
  | { type: 'GRACE_EXPIRED' };

export const hostMachine = setup({
  types: {
    context: {} as HostContext,
    events: {} as HostEvent,
    input: {} as HostInput,
  },
  actors: {
    offlineDeadline: unprovidedCallback<{ type: string }, DeadlineInput>('offlineDeadline'),
  },
  guards: {
    reportedOffline: ({ context }) => context.info.status !== 'online',
    observedOffline: ({ event }) => event.type === 'OBSERVED' && event.info.status !== 'online',
    noQuorum: ({ context }) => !context.quorate,
    overloaded: ({ context }) => {
      const { info, thresholds } = context;
      return info.cpu > thresholds.cpu || (info.maxmem > 0 && info.mem / info.maxmem > thresholds.mem);
    },
    graceExpired: ({ context }) =>
      context.unresponsiveSince !== undefined &&
      context.lastSeen - context.unresponsiveSince >= context.thresholds.offlineGraceMs,
  },
  actions: {
    recordObservation: assign(({ context, event }) => {
      if (event.type !== 'OBSERVED') return {};
      const online = event.info.status === 'online';
      return {
        info: event.info,
        quorate: event.quorate,
        lastSeen: event.at,
        unresponsiveSince: online ? undefined : (context.unresponsiveSince ?? event.at),
      };
    }),
  },
}).createMachine({
  id: 'host',
  context: ({ input }) => ({
    info: input.info,
    quorate: input.quorate,
    lastSeen: input.at,
    unresponsiveSince: input.info.status === 'online' ? undefined : input.at,
    thresholds: input.thresholds,
  }),
  initial: 'discovered',
  on: {
    OBSERVED: { target: '.discovered', actions: 'recordObservation' },
    CLUSTER_UNREACHABLE: '.unknown',
  },
  states: {
    // Routes to the state the last observation implies; every observation passes through here.
    discovered: {
      always: [
        { guard: 'reportedOffline', target: 'degraded.unresponsive' },
        { guard: 'noQuorum', target: 'degraded.noQuorum' },
        { guard: 'overloaded', target: 'degraded.overloaded' },
        { target: 'online' },
      ],
    },
    online: {},
    degraded: {
      initial: 'overloaded',
      states: {
        overloaded: {},
        noQuorum: {},
        unresponsive: {
          always: { guard: 'graceExpired', target: '#host.offline' },
          invoke: {
            src: 'offlineDeadline',
            input: ({ context }) => ({
              at: (context.unresponsiveSince ?? context.lastSeen) + context.thresholds.offlineGraceMs,
            }),
          },
          on: { GRACE_EXPIRED: '#host.offline' },
        },
      },
    },
    offline: {
      on: {
        OBSERVED: [
          // Still offline: stay offline (do not pass through degraded again).
          { guard: 'observedOffline', actions: 'recordObservation' },
          { target: 'discovered', actions: 'recordObservation' },
        ],
      },
    },
    unknown: {},
  },
});

export type HostMachine = typeof hostMachine;
