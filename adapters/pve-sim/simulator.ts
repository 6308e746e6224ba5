// startSimulator: wires state, faults, locks, workers and auth behind an HTTP(S) server on 127.0.0.1.
import { randomBytes, randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Clock } from '../clock';
import { Auth } from './auth';
import { SimConfigError, SimStoppedError } from './errors';
import { SimFaults } from './faults';
import { FlockTable } from './flocks';
import { createRequestHandler } from './http-server';
import { demoSeed } from './seeds';
import { createState } from './state';
import { TaskEngine } from './tasks';
import type { OpLogEntry, SimState, SimToken, SimUser, SimulatorOptions } from './types';

/** PVE's wait for a config file lock inside a worker. */
export const DEFAULT_LOCK_WAIT_MS = 10_000;

export interface Simulator {
  /** Base URL, e.g. https://127.0.0.1:41234 (the API is under /api2/json, the control API under /_sim). */
  url: string;
  host: string;
  port: number;
  /** Live state (for tests): nodes, VMs, tasks, quorum. */
  state: SimState;
  /** Every operation performed, in order. */
  oplog: OpLogEntry[];
  /** Fault injection, the same as the /_sim/faults endpoints. */
  faults: SimFaults;
  /** The credentials the simulator accepts (generated when none were given). */
  tokens: SimToken[];
  users: SimUser[];
  clock: Clock;
  /** Clock milliseconds a task of this type takes now (configured × slow-task faults). */
  taskDuration(type: string): number;
  /** Resolves when every task started so far has ended (advance a SimulatedClock meanwhile). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const host = opts.host ?? '127.0.0.1';
  if (host !== '127.0.0.1') throw new SimConfigError('the simulator only binds 127.0.0.1');
  const tokens = opts.tokens ?? [{ tokenid: 'root@pam!overseer', secret: randomUUID() }];
  for (const t of tokens) {
    if (!UUID_RE.test(t.secret)) throw new SimConfigError(`token ${t.tokenid}: secret must be a lowercase UUID`);
  }
  const users = opts.users ?? [{ userid: 'root@pam', password: randomBytes(12).toString('base64url') }];

  const clock = opts.clock;
  const state = opts.state ?? createState(opts.seed ?? demoSeed(), clock);
  const oplog: OpLogEntry[] = [];
  const faults = new SimFaults(state, clock, oplog, opts.onChange);
  const flocks = new FlockTable(clock, faults);
  const stopping = new AbortController();
  // Every running task sleeps on this one signal: as many listeners as tasks, not a leak (Node warns past 10).
  setMaxListeners(0, stopping.signal);
  const tasks = new TaskEngine({
    state,
    clock,
    faults,
    flocks,
    oplog,
    durations: opts.taskDurations ?? {},
    lockWaitMs: opts.lockWaitMs ?? DEFAULT_LOCK_WAIT_MS,
    signal: stopping.signal,
    onChange: opts.onChange,
  });
  const auth = new Auth(clock, state.cluster, tokens, users);
  const handler = createRequestHandler({ state, clock, faults, flocks, tasks, oplog, auth });

  const server: Server = opts.tls
    ? createHttpsServer({ cert: opts.tls.cert, key: opts.tls.key }, handler)
    : createHttpServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${opts.tls ? 'https' : 'http'}://${host}:${port}`;

  let stopped: Promise<void> | undefined;
  return {
    url,
    host,
    port,
    state,
    oplog,
    faults,
    tokens,
    users,
    clock,
    taskDuration: (type) => tasks.durationOf(type),
    idle: () => tasks.idle(),
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        stopping.abort(new SimStoppedError('simulator stopped'));
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
