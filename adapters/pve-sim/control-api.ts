// The simulator's own control API (not PVE's): JSON under /_sim, no authentication (127.0.0.1 only).
//   GET  /_sim/oplog | /_sim/faults | /_sim/state
//   POST /_sim/faults/<name> with a JSON body, one per SimFaults method (see CONTROL_ROUTES).
//   POST /_sim/actions/<name> with a JSON body: platform actions (run a backup job, ...; see SIM_ACTIONS).
import type { Clock } from '../clock';
import { SimConfigError } from './errors';
import type { SimFaults } from './faults';
import type { FlockTable } from './flocks';
import { SIM_ACTIONS } from './sim-actions';
import type { TaskEngine } from './tasks';
import type { OpLogEntry, SimState } from './types';

export interface ControlDeps {
  state: SimState;
  faults: SimFaults;
  oplog: OpLogEntry[];
  tasks: TaskEngine;
  clock: Clock;
  flocks: FlockTable;
}

export interface ControlReply {
  status: number;
  body: unknown;
}

type Body = Record<string, unknown>;

function num(b: Body, key: string, fallback?: number): number {
  const v = b[key] ?? fallback;
  if (typeof v !== 'number' || Number.isNaN(v)) throw new SimConfigError(`'${key}' must be a number`);
  return v;
}

function text(b: Body, key: string, fallback?: string): string {
  const v = b[key] ?? fallback;
  if (typeof v !== 'string') throw new SimConfigError(`'${key}' must be a string`);
  return v;
}

function optText(b: Body, key: string): string | undefined {
  return b[key] === undefined ? undefined : text(b, key);
}

function flag(b: Body, key: string, fallback: boolean): boolean {
  const v = b[key] ?? fallback;
  if (typeof v !== 'boolean') throw new SimConfigError(`'${key}' must be a boolean`);
  return v;
}

/** POST /_sim/faults/<name> → what it does. */
export const CONTROL_ROUTES: Readonly<Record<string, (f: SimFaults, b: Body) => void>> = {
  'node-offline': (f, b) => f.nodeOffline(text(b, 'node'), flag(b, 'offline', true)),
  crash: (f, b) => f.crashVm(num(b, 'vmid')),
  'slow-tasks': (f, b) => f.slowTasks(num(b, 'multiplier'), optText(b, 'type')),
  'fail-tasks': (f, b) => f.failTasks(text(b, 'type'), num(b, 'count', 1), optText(b, 'message')),
  'lock-timeout': (f, b) => f.lockTimeout(num(b, 'vmid'), num(b, 'count', 1)),
  'quorum-loss': (f, b) => f.quorumLoss(flag(b, 'lost', true)),
  latency: (f, b) => f.addLatency(num(b, 'ms')),
  'http-error': (f, b) =>
    f.httpError({
      path: text(b, 'path'),
      method: optText(b, 'method'),
      count: num(b, 'count', 1),
      status: num(b, 'status', 500),
      message: optText(b, 'message'),
    }),
  'empty-resources': (f, b) => f.emptyResources(num(b, 'count', 1)),
  'vm-lock': (f, b) => f.lockVm(num(b, 'vmid'), b.lock === null || b.lock === undefined ? null : text(b, 'lock')),
  reset: (f) => f.reset(),
};

export function handleControl(deps: ControlDeps, method: string, path: string, body: Body): ControlReply {
  try {
    if (method === 'GET' && path === '/_sim/oplog') return { status: 200, body: deps.oplog };
    if (method === 'GET' && path === '/_sim/faults') return { status: 200, body: deps.faults.view() };
    if (method === 'GET' && path === '/_sim/state') {
      const s = deps.state;
      return {
        status: 200,
        body: {
          cluster: s.cluster,
          quorate: s.quorate,
          nodes: [...s.nodes.values()].map((n) => ({ node: n.name, online: n.online })),
          vms: s.vms.size,
          tasks: s.tasks.size,
          activeTasks: deps.tasks.active,
        },
      };
    }
    const a = /^\/_sim\/actions\/([a-z-]+)$/.exec(path);
    const simAction = a && Object.hasOwn(SIM_ACTIONS, a[1]!) ? SIM_ACTIONS[a[1]!] : undefined;
    if (method === 'POST' && simAction) return { status: 200, body: simAction(deps, body) };
    const m = /^\/_sim\/faults\/([a-z-]+)$/.exec(path);
    const action = m ? CONTROL_ROUTES[m[1]!] : undefined;
    if (method === 'POST' && action) {
      action(deps.faults, body);
      return { status: 200, body: deps.faults.view() };
    }
    return { status: 404, body: { error: `no control endpoint ${method} ${path}` } };
  } catch (err) {
    if (err instanceof SimConfigError) return { status: 400, body: { error: err.message } };
    throw err;
  }
}
