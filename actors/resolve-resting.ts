// Resolving persisted snapshots of passivated logic (a VM's: a state value that is one name, no history, no children)
// against the machine, for every VM on a restart. XState's resolveState works out the state nodes from the value each
// time (about 10 µs a VM); snapshots in the same state share them, so here they are worked out once per state value,
// and each snapshot is that template with its own context: field for field the object resolveState returns.
import type { AnyStateMachine, SnapshotFrom } from 'xstate';

interface Persisted {
  value?: unknown;
  status?: string;
  context?: unknown;
  output?: unknown;
  error?: unknown;
  historyValue?: object;
}

export class RestingResolver<TLogic extends AnyStateMachine> {
  /** The snapshot resolveState gives for each state value, with an empty context. */
  private readonly templates = new Map<string, object>();

  constructor(private readonly logic: TLogic) {}

  resolve(persisted: unknown): SnapshotFrom<TLogic> {
    const p = persisted as Persisted;
    if (typeof p.value !== 'string' || (p.historyValue !== undefined && !isEmpty(p.historyValue))) {
      return this.logic.resolveState(p as never) as SnapshotFrom<TLogic>;
    }
    let template = this.templates.get(p.value);
    if (!template) {
      template = this.logic.resolveState({ value: p.value, context: {} } as never) as object;
      this.templates.set(p.value, template);
    }
    // As resolveState: 'done' in a final state, else the status given (default 'active').
    const status = (template as { status: string }).status === 'done' ? 'done' : (p.status ?? 'active');
    return {
      ...template,
      status,
      output: p.output,
      error: p.error,
      context: p.context ?? {},
      children: {},
      historyValue: p.historyValue ?? {},
    } as SnapshotFrom<TLogic>;
  }
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}
