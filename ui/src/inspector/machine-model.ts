// Reads an XState v5 machine definition (machine.toJSON(): nested state nodes with `key`, `id`, `type`,
// `initial`, `states`, `transitions`/`on`, `always`, `invoke`) into a small model: the states by path
// (`degraded.overloaded`), the transitions with their event and guard names, and which states a snapshot value
// makes active. Pure: no DOM, no layout.

export type StateType = 'atomic' | 'compound' | 'parallel' | 'final' | 'history';

export interface StateModel {
  /** Dotted path from the machine's root (`''` for the root itself). */
  path: string;
  key: string;
  type: StateType;
  /** The path of the initial child, for a compound state. */
  initial: string | undefined;
  children: StateModel[];
  /** What the state invokes while it is active (`src`). */
  invokes: string[];
  /** Tags on the state. */
  tags: string[];
}

export interface TransitionModel {
  source: string;
  targets: string[];
  /** The event as the machine names it (`xstate.done.actor.gate`, `''` for an eventless one). */
  event: string;
  /** The guard's name (with its parameters when it has some), when there is one the definition names. */
  guard: string | undefined;
}

export interface MachineModel {
  id: string;
  root: StateModel;
  states: Map<string, StateModel>;
  transitions: TransitionModel[];
}

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const asArray = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined || v === null ? [] : [v]);
const TYPES: readonly StateType[] = ['atomic', 'compound', 'parallel', 'final', 'history'];

/** A guard as the definition names it: `isLocked`, `isOperation: start` (its parameters' values); undefined for inline functions. */
export function guardName(guard: unknown): string | undefined {
  if (typeof guard === 'string') return guard;
  if (!isObject(guard)) return undefined;
  const type = typeof guard.type === 'string' ? guard.type : undefined;
  if (type === undefined) return undefined;
  const params = isObject(guard.params) ? Object.entries(guard.params) : [];
  if (params.length === 0) return type;
  return `${type}: ${params.map(([, v]) => (typeof v === 'string' ? v : JSON.stringify(v))).join(', ')}`;
}

/** An event's name for people: `done: gate` for `xstate.done.actor.gate`, `after 5000 ms`, `always`. */
export function eventLabel(event: string): string {
  if (event === '') return 'always';
  let m = /^xstate\.done\.actor\.(.+)$/.exec(event);
  if (m) return `done: ${m[1]}`;
  m = /^xstate\.error\.actor\.(.+)$/.exec(event);
  if (m) return `error: ${m[1]}`;
  m = /^xstate\.after\.(\d+)\./.exec(event);
  if (m) return `after ${m[1]} ms`;
  m = /^xstate\.done\.state\.(.+)$/.exec(event);
  if (m) return `done: ${m[1]}`;
  return event;
}

export function parseMachine(json: unknown): MachineModel {
  if (!isObject(json)) throw new Error('the machine definition is not an object');
  const states = new Map<string, StateModel>();
  const idToPath = new Map<string, string>();
  const raw = new Map<string, Json>();

  const walk = (node: Json, path: string): StateModel => {
    const key = typeof node.key === 'string' ? node.key : path.split('.').pop() || 'machine';
    const type = TYPES.includes(node.type as StateType) ? (node.type as StateType) : 'atomic';
    const model: StateModel = {
      path,
      key,
      type,
      initial: undefined,
      children: [],
      invokes: asArray(node.invoke)
        .map((i) => (isObject(i) ? (typeof i.src === 'string' ? i.src : typeof i.id === 'string' ? i.id : '') : ''))
        .filter((s) => s !== ''),
      tags: asArray(node.tags).filter((t): t is string => typeof t === 'string'),
    };
    states.set(path, model);
    raw.set(path, node);
    if (typeof node.id === 'string') idToPath.set(node.id, path);
    if (isObject(node.states)) {
      for (const [childKey, child] of Object.entries(node.states)) {
        if (isObject(child)) model.children.push(walk(child, path === '' ? childKey : `${path}.${childKey}`));
      }
    }
    return model;
  };
  const root = walk(json, '');
  const machineId = typeof json.id === 'string' ? json.id : root.key;

  /** `#vm.discovered` or `vm.discovered` or a child key → a path. */
  const resolve = (target: unknown, source: string): string | undefined => {
    if (typeof target !== 'string') return undefined;
    const id = target.startsWith('#') ? target.slice(1) : target;
    const byId = idToPath.get(id);
    if (byId !== undefined) return byId;
    const parent = source.includes('.') ? source.slice(0, source.lastIndexOf('.')) : '';
    for (const base of [source, parent]) {
      const candidate = base === '' ? id : `${base}.${id}`;
      if (states.has(candidate)) return candidate;
    }
    return undefined;
  };

  const transitions: TransitionModel[] = [];
  const addTransition = (source: string, t: unknown, fallbackEvent: string) => {
    if (!isObject(t)) return;
    const event = typeof t.eventType === 'string' ? t.eventType : fallbackEvent;
    const targets = asArray(t.target)
      .map((target) => resolve(target, source))
      .filter((p): p is string => p !== undefined);
    transitions.push({ source, targets, event, guard: guardName(t.guard) });
  };

  for (const [path, node] of raw) {
    const model = states.get(path)!;
    if (isObject(node.initial)) {
      const target = asArray(node.initial.target)[0];
      model.initial = resolve(target, path);
    } else if (typeof node.initial === 'string') {
      model.initial = resolve(node.initial, path);
    }
    if (Array.isArray(node.transitions)) {
      for (const t of node.transitions) addTransition(path, t, '');
    } else if (isObject(node.on)) {
      for (const [event, list] of Object.entries(node.on)) for (const t of asArray(list)) addTransition(path, t, event);
    }
    for (const t of asArray(node.always)) addTransition(path, t, '');
  }
  return { id: machineId, root, states, transitions };
}

/**
 * The paths a snapshot value makes active: `'running'` → running; `{ degraded: 'overloaded' }` → degraded and
 * degraded.overloaded; a parallel state's object → each region and its state.
 */
export function activePaths(value: unknown, prefix = ''): Set<string> {
  const active = new Set<string>();
  const join = (key: string) => (prefix === '' ? key : `${prefix}.${key}`);
  if (typeof value === 'string') {
    active.add(join(value));
  } else if (isObject(value)) {
    for (const [key, child] of Object.entries(value)) {
      active.add(join(key));
      for (const p of activePaths(child, join(key))) active.add(p);
    }
  }
  return active;
}

/** A state name such as `degraded.overloaded` (what GET /v1/actors lists) → the value it stands for. */
export function valueFromName(name: string): unknown {
  if (name.includes(',')) {
    return Object.assign(
      {},
      ...name
        .split(',')
        .map((part) => valueFromName(part.trim()))
        .filter(isObject),
    );
  }
  const parts = name.split('.');
  let value: unknown = parts.pop() ?? '';
  while (parts.length > 0) value = { [parts.pop()!]: value };
  return value;
}
