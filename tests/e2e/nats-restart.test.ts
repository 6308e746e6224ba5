// NATS dies and comes back while requests stream in through the gateway (two processes, a real nats-server
// killed with SIGKILL and restarted on the same port and store). The client behaves like a real one: it retries
// 503 with the same Idempotency-Key. Nothing answered 201 may be lost, and nothing may be created twice.
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsServerAvailable } from '../helpers/nats-server';
import type { ApiAnswer, ApiOptions, RequestView, TwoProcessStack } from './stack';
import { startTwoProcessStack, TERMINAL } from './stack';

const SUBMISSIONS = 60;
const WORKERS = 3;
/** Restart NATS once this many submissions have been answered. */
const RESTART_AFTER = 15;
/** How long NATS stays away. */
const OUTAGE_MS = 1_500;
/** A test client does not wait the full Retry-After (5 s) between attempts. */
const MAX_RETRY_PAUSE_MS = 200;

const VMIDS = [100, 101, 102, 103, 104, 106, 107, 108, 109, 111, 112, 113];
const ACTIONS = ['stop', 'start', 'snapshot'] as const;

interface Submitted {
  id: string;
  decision: string;
  status: string;
}

let stack: TwoProcessStack;
let readerToken: string;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function submission(i: number) {
  // Round r touches every VM once; the action changes from round to round (stop, start, snapshot, ...).
  const action = ACTIONS[Math.floor(i / VMIDS.length) % ACTIONS.length]!;
  const target = `lab/${VMIDS[i % VMIDS.length]}`;
  return action === 'snapshot' ? { action, target, params: { snapname: `e2e_${i}` } } : { action, target };
}

describe.runIf(natsServerAvailable)('nats restart', () => {
  beforeAll(async () => {
    stack = await startTwoProcessStack();
    // Reads go with their own token (their own rate-limit bucket), as a dashboard would.
    const reader = await stack.api<{ token: string }>('POST', '/v1/tokens', {
      body: { name: 'reader', role: 'observer' },
    });
    readerToken = reader.body.token;
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  }, 30_000);

  it('nats restart - every 201 survives a NATS restart mid-stream, 503s carry Retry-After, retries create no duplicates', async () => {
    const started = Date.now();
    const answers = new Map<string, Submitted[]>(); // Idempotency-Key → every 201 answer for it
    const unavailable: (string | null)[] = []; // Retry-After of each 503
    const otherStatuses: string[] = [];
    let answered = 0;
    let restart: Promise<void> | undefined;

    const restartNats = async () => {
      await stack.nats.kill();
      await sleep(OUTAGE_MS);
      await stack.nats.restart();
    };

    /** POST with one Idempotency-Key until the gateway answers 201, as a client that retries would. */
    const submit = async (i: number) => {
      const key = `e2e-restart-${i}`;
      const opts: ApiOptions = { body: submission(i), headers: { 'Idempotency-Key': key } };
      for (let attempt = 0; ; attempt++) {
        if (Date.now() - started > 40_000) throw new Error(`submission ${key} not accepted after ${attempt} attempts`);
        let answer: ApiAnswer<Submitted>;
        try {
          answer = await stack.api<Submitted>('POST', '/v1/requests', opts);
        } catch (error) {
          otherStatuses.push(`${key}: ${(error as Error).message}`);
          await sleep(MAX_RETRY_PAUSE_MS);
          continue;
        }
        if (answer.status === 201) {
          answers.set(key, [...(answers.get(key) ?? []), answer.body]);
          answered++;
          if (answered === RESTART_AFTER) restart = restartNats();
          return;
        }
        if (answer.status === 503 || answer.status === 429) {
          if (answer.status === 503) unavailable.push(answer.headers.get('retry-after'));
          const wait = Number(answer.headers.get('retry-after') ?? '1') * 1000;
          await sleep(Math.min(wait, MAX_RETRY_PAUSE_MS));
          continue;
        }
        throw new Error(`${key}: unexpected ${answer.status} ${JSON.stringify(answer.body)}`);
      }
    };

    let next = 0;
    const worker = async () => {
      while (next < SUBMISSIONS) {
        const i = next++;
        await submit(i);
        // A steady stream rather than a burst, so the outage falls in the middle of it.
        await sleep(40);
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, worker));
    // A replayed key (the core had decided before NATS went) answers with the same request.
    for (const [key, list] of answers) expect(new Set(list.map((a) => a.id)).size, key).toBe(1);
    // Once more after the outage: every key still answers with its one request.
    for (let i = 0; i < SUBMISSIONS; i += 7) {
      const again = await stack.api<Submitted>('POST', '/v1/requests', {
        body: submission(i),
        headers: { 'Idempotency-Key': `e2e-restart-${i}` },
      });
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(again.body.id).toBe(answers.get(`e2e-restart-${i}`)?.[0]?.id);
    }
    await restart;
    expect(restart, 'NATS was restarted mid-stream').toBeDefined();

    // The gateway said 503 while NATS was away, each time with Retry-After.
    expect(unavailable.length).toBeGreaterThan(0);
    for (const retryAfter of unavailable) expect(retryAfter).toMatch(/^[1-9]\d*$/);
    expect(otherStatuses).toEqual([]);

    // Every accepted submission exists, was decided, and reaches an end (or waits for approval).
    const ids = new Map([...answers].map(([key, list]) => [key, list[0]!.id]));
    expect(ids.size).toBe(SUBMISSIONS);
    const done = (v: RequestView) => TERMINAL.has(v.status) || v.status === 'awaiting_approval';
    const deadline = Date.now() + 40_000;
    for (;;) {
      const list = await stack.api<{ items: RequestView[] }>('GET', '/v1/requests?limit=1000', { token: readerToken });
      expect(list.status).toBe(200);
      const pending = list.body.items.filter((v) => !done(v));
      if ((pending.length === 0 && list.body.items.length >= ids.size) || Date.now() > deadline) break;
      await sleep(250);
    }
    const settled = new Map<string, RequestView>();
    for (const id of ids.values()) {
      const view = await stack.api<RequestView>('GET', `/v1/requests/${id}`, { token: readerToken });
      expect(view.status, `GET /v1/requests/${id}`).toBe(200);
      if (done(view.body)) settled.set(id, view.body);
    }
    const open = [...ids.values()].filter((id) => !settled.has(id));
    expect(open, 'requests that never ended').toEqual([]);
    for (const view of settled.values()) {
      expect(['approved', 'denied', 'awaiting_approval', 'nothing_to_do']).toContain(view.decision);
      expect(view.history[0]?.status).toBe('received');
    }
    // Every operation here is valid on the simulator: none may fail because NATS went away under it.
    expect([...settled.values()].filter((v) => v.status === 'failed')).toEqual([]);
    // Some went through the whole way while NATS was restarted around them.
    expect([...settled.values()].filter((v) => v.status === 'completed').length).toBeGreaterThan(0);

    // No duplicates: the core's store holds exactly one request per Idempotency-Key, and nothing else.
    const db = new Database(join(stack.dataDir, 'overseer.db'), { readonly: true, fileMustExist: true });
    try {
      const rows = db
        .prepare('SELECT idempotency_key AS key, count(*) AS n, min(id) AS id FROM requests GROUP BY idempotency_key')
        .all() as { key: string | null; n: number; id: string }[];
      expect(rows.filter((r) => r.n !== 1 || r.key === null)).toEqual([]);
      expect(rows.length).toBe(SUBMISSIONS);
      for (const row of rows) expect(row.id, row.key ?? '').toBe(ids.get(row.key ?? ''));
    } finally {
      db.close();
    }
    expect(Date.now() - started).toBeLessThan(60_000);
  }, 60_000);
});
