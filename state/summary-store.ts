// The in-memory system view: how many VMs, hosts and requests are in each state, as an @xstate/store.
// Fed one event per actor state change; `reset` loads full counts (e.g. from StateStore.countSummary()).
import { createStore } from '@xstate/store';

export interface SystemSummary {
  vms: Record<string, number>;
  hosts: Record<string, number>;
  requests: Record<string, number>;
}

/** `to` value meaning the actor is gone: its `from` state is decremented and nothing incremented. */
export const REMOVED = 'removed';

/**
 * An actor moved from `from` to `to`. `from` undefined: a new actor. `to` 'removed': the actor is gone.
 */
export interface StateChangedEvent {
  from?: string | undefined;
  to: string;
}

const empty = (): SystemSummary => ({ vms: {}, hosts: {}, requests: {} });

function moved(counts: Record<string, number>, { from, to }: StateChangedEvent): Record<string, number> {
  if (from === to) return counts;
  const next = { ...counts };
  if (from !== undefined && from !== REMOVED) {
    const n = (next[from] ?? 0) - 1;
    if (n > 0) next[from] = n;
    else delete next[from];
  }
  if (to !== REMOVED) next[to] = (next[to] ?? 0) + 1;
  return next;
}

const copy = (counts: Record<string, number> | undefined): Record<string, number> => {
  const out: Record<string, number> = {};
  for (const [state, n] of Object.entries(counts ?? {})) if (n > 0) out[state] = n;
  return out;
};

export function createSummaryStore(initial?: Partial<SystemSummary>) {
  return createStore({
    context: { vms: copy(initial?.vms), hosts: copy(initial?.hosts), requests: copy(initial?.requests) },
    on: {
      vmStateChanged: (context: SystemSummary, event: StateChangedEvent) => ({
        ...context,
        vms: moved(context.vms, event),
      }),
      hostStateChanged: (context: SystemSummary, event: StateChangedEvent) => ({
        ...context,
        hosts: moved(context.hosts, event),
      }),
      requestStateChanged: (context: SystemSummary, event: StateChangedEvent) => ({
        ...context,
        requests: moved(context.requests, event),
      }),
      reset: (_context: SystemSummary, event: Partial<SystemSummary>) => ({
        ...empty(),
        vms: copy(event.vms),
        hosts: copy(event.hosts),
        requests: copy(event.requests),
      }),
    },
  });
}

export type SummaryStore = ReturnType<typeof createSummaryStore>;

/** The current counts (an immutable snapshot: later events never change it). */
export function summarize(store: SummaryStore): SystemSummary {
  return store.getSnapshot().context;
}
