// One core's lease on one Proxmox cluster (DESIGN §14): observing → acquiring → owning (renewed) → lost / releasing.
// Pure: the store's reads and writes are the actors `readLease`, `writeLease` and `releaseLease`, supplied with
// `.provide()`; they stamp their results with the local clock (`sentAt` before a write is sent, `at` once an answer
// is in), and the machine reasons with those stamps only.
//
// Why this is safe without synchronised clocks (only clock *rates* are assumed alike, within the margin):
// - The owner's lease is valid until `sentAt + leaseMs - marginMs`, `sentAt` read before its last successful renewal
//   left; the renewal was stored after that, so every other core reads the new revision after `sentAt` (real time).
// - An observer takes a lease over only by a CAS on a revision it has seen unchanged for `leaseMs` on its own clock,
//   counted from when it first had that revision in hand (`at`, after the read's answer, so after the write).
// - So a take-over happens at or after `sentAt + leaseMs`, later than the owner's `sentAt + leaseMs - marginMs`; had
//   the owner renewed meanwhile, the revision moved and the CAS fails. Two cores are never valid at once.
// A write whose answer was lost may have been stored: it is remembered (`pending`) with its `sentAt`, and a later read
// that shows it is adopted with that `sentAt`, never a later one.
import { assign, emit, setup } from 'xstate';
import {
  type LeaseEmitted,
  type LeaseMachineContext,
  type LeaseMachineEvent,
  type LeaseMachineInput,
  type LeaseReadOutput,
  type LeaseReleaseInput,
  type LeaseReleaseOutput,
  type LeaseWriteInput,
  type LeaseWriteOutput,
  ownPendingWrite,
  PENDING_KEPT,
  preferredCore,
  takeOverAfter,
  validUntilOf,
} from './lease-rules';
import { unprovidedPromise } from './unprovided';

export * from './lease-rules';

type WriteDone = { output: LeaseWriteOutput };
type ReadDone = { output: LeaseReadOutput };

export const leaseMachine = setup({
  types: {
    context: {} as LeaseMachineContext,
    events: {} as LeaseMachineEvent,
    input: {} as LeaseMachineInput,
    emitted: {} as LeaseEmitted,
  },
  actors: {
    readLease: unprovidedPromise<LeaseReadOutput, { key: string }>('readLease'),
    writeLease: unprovidedPromise<LeaseWriteOutput, LeaseWriteInput>('writeLease'),
    releaseLease: unprovidedPromise<LeaseReleaseOutput, LeaseReleaseInput>('releaseLease'),
  },
  delays: {
    pollDelay: ({ context }) => {
      if (!context.seen) return context.pollMs;
      const due = context.seen.firstSeenAt + takeOverAfter(context) - context.lastAt;
      return due > 0 ? Math.min(context.pollMs, due) : context.pollMs;
    },
    renewDelay: ({ context }) => context.renewMs,
    retryDelay: ({ context }) => context.retryMs,
    validityEnd: ({ context }) => Math.max(0, context.validUntil - context.lastAt),
  },
  guards: {
    ownPendingWrite: ({ context }) => ownPendingWrite(context) !== undefined,
    readShowsOwnPendingWrite: ({ context }, read: LeaseReadOutput) =>
      ownPendingWrite({ ...context, lastRead: read.record, lastAt: read.at }) !== undefined,
    takeOverDue: ({ context }) =>
      context.seen !== undefined && context.lastAt - context.seen.firstSeenAt >= takeOverAfter(context),
    written: (_, output: LeaseWriteOutput) => output.outcome === 'written',
    writtenInTime: ({ context }, output: LeaseWriteOutput) =>
      output.outcome === 'written' && validUntilOf(context, output.sentAt) > output.at,
    conflict: (_, output: LeaseWriteOutput) => output.outcome === 'conflict',
    stopping: ({ context }) => context.stopping,
  },
  actions: {
    observe: assign(({ context }, read: LeaseReadOutput) => {
      const revision = read.record?.revision ?? 0;
      const seen =
        context.seen?.revision === revision
          ? context.seen
          : {
              revision,
              holder: read.record ? (read.record.holder?.core ?? '(unreadable)') : null,
              epoch: read.record?.holder?.epoch ?? context.seen?.epoch ?? 0,
              firstSeenAt: read.at,
            };
      const preferred = read.liveCores
        ? preferredCore([...read.liveCores, context.core], context.cluster) === context.core
        : true;
      return { seen, lastRead: read.record, lastAt: read.at, preferred };
    }),
    noteRead: assign((_, read: LeaseReadOutput) => ({ lastRead: read.record, lastAt: read.at })),
    noteError: assign((_, error: unknown) => ({ lastError: error instanceof Error ? error.message : String(error) })),
    prepareAcquire: assign(({ context }) => ({
      epoch: (context.seen?.epoch ?? 0) + 1,
      seq: 0,
      previousOwner: context.seen?.holder ?? undefined,
    })),
    recordAcquired: assign(({ context }, output: LeaseWriteOutput) =>
      output.outcome === 'written'
        ? {
            revision: output.revision,
            acquiredAt: output.at,
            validUntil: validUntilOf(context, output.sentAt),
            lastAt: output.at,
            pending: [],
            lastError: undefined,
          }
        : {},
    ),
    recordRenewal: assign(({ context }, output: LeaseWriteOutput) =>
      output.outcome === 'written'
        ? {
            revision: output.revision,
            seq: context.seq + 1,
            validUntil: Math.max(context.validUntil, validUntilOf(context, output.sentAt)),
            lastAt: output.at,
            pending: [],
            lastError: undefined,
          }
        : {},
    ),
    /** A write with no answer: remembered, it may show up stored later. `seq` is the one it carried. */
    rememberPending: assign(({ context }, p: { output: LeaseWriteOutput; seq: number }) => ({
      pending: [...context.pending, { epoch: context.epoch, seq: p.seq, sentAt: p.output.sentAt }].slice(-PENDING_KEPT),
      lastAt: p.output.at,
      lastError: p.output.outcome === 'unknown' ? p.output.error : context.lastError,
    })),
    noteAnswer: assign((_, output: LeaseWriteOutput) => ({ lastAt: output.at })),
    adoptOwnWrite: assign(({ context }) => {
      const write = ownPendingWrite(context);
      if (!write || !context.lastRead) return {};
      const owning = context.validUntil > 0;
      return {
        epoch: write.epoch,
        seq: write.seq,
        revision: context.lastRead.revision,
        acquiredAt: owning ? context.acquiredAt : context.lastAt,
        validUntil: Math.max(owning ? context.validUntil : 0, validUntilOf(context, write.sentAt)),
        pending: [],
      };
    }),
    markStopping: assign({ stopping: true }),
    endValidity: assign({ validUntil: 0 }),
    reportAcquired: emit(({ context }) => ({
      type: 'acquired' as const,
      cluster: context.cluster,
      core: context.core,
      epoch: context.epoch,
      revision: context.revision,
      previousOwner: context.previousOwner,
      acquiredAt: context.acquiredAt,
      validUntil: context.validUntil,
    })),
    reportLost: emit(({ context }, reason: 'expired' | 'taken') => ({
      type: 'lost' as const,
      cluster: context.cluster,
      core: context.core,
      epoch: context.epoch,
      validUntil: context.validUntil,
      reason,
    })),
    reportReleased: emit(({ context }, deleted: boolean) => ({
      type: 'released' as const,
      cluster: context.cluster,
      core: context.core,
      epoch: context.epoch,
      deleted,
    })),
  },
}).createMachine({
  id: 'lease',
  context: ({ input }) => ({
    ...input,
    preferred: true,
    lastAt: 0,
    epoch: 0,
    seq: 0,
    revision: 0,
    acquiredAt: 0,
    validUntil: 0,
    pending: [],
    stopping: false,
  }),
  initial: 'observing',
  on: { RELEASE: '.stopped' },
  states: {
    observing: {
      initial: 'reading',
      // RELEASE came while acquiring and the write did not make this core the owner.
      always: { guard: 'stopping', target: 'stopped' },
      states: {
        reading: {
          invoke: {
            src: 'readLease',
            input: ({ context }) => ({ key: context.key }),
            onDone: {
              target: 'deciding',
              actions: { type: 'observe', params: ({ event }: { event: ReadDone }) => event.output },
            },
            onError: {
              target: 'waiting',
              actions: { type: 'noteError', params: ({ event }: { event: { error: unknown } }) => event.error },
            },
          },
        },
        deciding: {
          always: [
            { guard: 'ownPendingWrite', target: '#lease.owning', actions: ['adoptOwnWrite', 'reportAcquired'] },
            { guard: 'takeOverDue', target: '#lease.acquiring' },
            { target: 'waiting' },
          ],
        },
        waiting: { after: { pollDelay: 'reading' } },
      },
    },
    acquiring: {
      entry: 'prepareAcquire',
      on: { RELEASE: { actions: 'markStopping' } },
      invoke: {
        src: 'writeLease',
        input: ({ context }) => ({
          key: context.key,
          mode: context.seen?.holder === null ? ('create' as const) : ('update' as const),
          revision: context.seen?.revision ?? 0,
          value: { core: context.core, epoch: context.epoch, seq: 0 },
        }),
        onDone: [
          {
            guard: { type: 'writtenInTime', params: ({ event }: { event: WriteDone }) => event.output },
            target: 'owning',
            actions: [
              { type: 'recordAcquired', params: ({ event }: { event: WriteDone }) => event.output },
              'reportAcquired',
            ],
          },
          {
            guard: { type: 'written', params: ({ event }: { event: WriteDone }) => event.output },
            target: 'observing',
            actions: {
              type: 'rememberPending',
              params: ({ event }: { event: WriteDone }) => ({ output: event.output, seq: 0 }),
            },
          },
          {
            guard: { type: 'conflict', params: ({ event }: { event: WriteDone }) => event.output },
            target: 'observing',
            actions: { type: 'noteAnswer', params: ({ event }: { event: WriteDone }) => event.output },
          },
          {
            target: 'observing',
            actions: {
              type: 'rememberPending',
              params: ({ event }: { event: WriteDone }) => ({ output: event.output, seq: 0 }),
            },
          },
        ],
        onError: {
          target: 'observing',
          actions: { type: 'noteError', params: ({ event }: { event: { error: unknown } }) => event.error },
        },
      },
    },
    owning: {
      initial: 'idle',
      always: { guard: 'stopping', target: 'releasing' },
      after: {
        validityEnd: { target: 'observing', actions: [{ type: 'reportLost', params: 'expired' }, 'endValidity'] },
      },
      on: { RELEASE: 'releasing' },
      states: {
        idle: { after: { renewDelay: 'renewing' } },
        renewing: {
          invoke: {
            src: 'writeLease',
            input: ({ context }) => ({
              key: context.key,
              mode: 'update' as const,
              revision: context.revision,
              value: { core: context.core, epoch: context.epoch, seq: context.seq + 1 },
            }),
            onDone: [
              {
                guard: { type: 'written', params: ({ event }: { event: WriteDone }) => event.output },
                target: '#lease.owning',
                reenter: true,
                actions: { type: 'recordRenewal', params: ({ event }: { event: WriteDone }) => event.output },
              },
              {
                guard: { type: 'conflict', params: ({ event }: { event: WriteDone }) => event.output },
                target: 'verifying',
                actions: { type: 'noteAnswer', params: ({ event }: { event: WriteDone }) => event.output },
              },
              {
                target: 'retrying',
                actions: {
                  type: 'rememberPending',
                  params: ({ context, event }: { context: LeaseMachineContext; event: WriteDone }) => ({
                    output: event.output,
                    seq: context.seq + 1,
                  }),
                },
              },
            ],
            onError: {
              target: 'retrying',
              actions: { type: 'noteError', params: ({ event }: { event: { error: unknown } }) => event.error },
            },
          },
        },
        retrying: { after: { retryDelay: 'renewing' } },
        // A renewal was refused: stored by a write of ours whose answer was lost, or taken over.
        verifying: {
          invoke: {
            src: 'readLease',
            input: ({ context }) => ({ key: context.key }),
            onDone: [
              {
                guard: { type: 'readShowsOwnPendingWrite', params: ({ event }: { event: ReadDone }) => event.output },
                target: '#lease.owning',
                reenter: true,
                actions: [
                  { type: 'noteRead', params: ({ event }: { event: ReadDone }) => event.output },
                  'adoptOwnWrite',
                ],
              },
              {
                target: '#lease.observing',
                actions: [
                  { type: 'reportLost', params: 'taken' },
                  'endValidity',
                  { type: 'observe', params: ({ event }: { event: ReadDone }) => event.output },
                ],
              },
            ],
            onError: {
              target: 'verifyWait',
              actions: { type: 'noteError', params: ({ event }: { event: { error: unknown } }) => event.error },
            },
          },
        },
        verifyWait: { after: { retryDelay: 'verifying' } },
      },
    },
    releasing: {
      entry: 'endValidity',
      on: { RELEASE: {} },
      invoke: {
        src: 'releaseLease',
        input: ({ context }) => ({
          key: context.key,
          revision: context.revision,
          core: context.core,
          epoch: context.epoch,
        }),
        onDone: {
          target: 'stopped',
          actions: {
            type: 'reportReleased',
            params: ({ event }: { event: { output: LeaseReleaseOutput } }) => event.output.deleted,
          },
        },
        onError: { target: 'stopped', actions: { type: 'reportReleased', params: false } },
      },
    },
    stopped: { type: 'final', on: { RELEASE: {} } },
  },
});

export type LeaseMachine = typeof leaseMachine;
