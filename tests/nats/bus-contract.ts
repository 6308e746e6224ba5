// The behaviour every Bus implementation shares; run against the NATS bus and the memory bus.
import { afterEach, beforeEach, expect, test } from 'vitest';
import {
  type Bus,
  BusPayloadError,
  BusRemoteError,
  BusTimeoutError,
  BusUnavailableError,
  InvalidSubjectError,
} from '../../adapters/nats';
import { subjects } from '../../protocol';

export interface BusPair {
  /** Two ends (separate connections where that means something). */
  a: Bus;
  b: Bus;
  /** Waits until subscriptions made on either end are in effect. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

const waitFor = async (cond: () => boolean, ms = 2_000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

export function busContract(area: string, makePair: () => Promise<BusPair>): void {
  let pair: BusPair;
  beforeEach(async () => {
    pair = await makePair();
  });
  afterEach(async () => {
    await pair.close();
  });

  test(`${area} - request/reply round trip carries JSON both ways`, async () => {
    const seen: [unknown, string][] = [];
    pair.b.reply(subjects.reqSubmit, (payload, subject) => {
      seen.push([payload, subject]);
      return { requestId: 'r1', decision: 'approved', echo: payload };
    });
    await pair.settle();
    const answer = await pair.a.request<{ requestId: string; echo: unknown }>(subjects.reqSubmit, {
      action: 'start',
      vmid: 101,
    });
    expect(answer).toEqual({ requestId: 'r1', decision: 'approved', echo: { action: 'start', vmid: 101 } });
    expect(seen).toEqual([[{ action: 'start', vmid: 101 }, 'overseer.req.submit']]);
  });

  test(`${area} - a wildcard responder sees the actual subject`, async () => {
    pair.b.reply(subjects.reqCommandsFilter, async (_p, subject) => ({ subject }));
    await pair.settle();
    const subject = subjects.reqCommand('r42', 'approve');
    expect(await pair.a.request(subject, {})).toEqual({ subject });
  });

  test(`${area} - a failing handler is answered as an error, and the responder keeps serving`, async () => {
    let calls = 0;
    pair.b.reply(subjects.query('boom'), async () => {
      calls++;
      if (calls === 1) {
        const err = new Error('gate exploded');
        err.name = 'GateDenied';
        throw err;
      }
      return 'fine';
    });
    await pair.settle();
    const err = await pair.a.request(subjects.query('boom'), null).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusRemoteError);
    expect((err as BusRemoteError).remoteName).toBe('GateDenied');
    expect((err as BusRemoteError).message).toContain('gate exploded');
    expect(await pair.a.request(subjects.query('boom'), null)).toBe('fine');
  });

  test(`${area} - a handler answering something that looks like an error envelope is not an error`, async () => {
    pair.b.reply(subjects.query('lookalike'), () => ({ error: { name: 'X', message: 'just data' } }));
    await pair.settle();
    expect(await pair.a.request(subjects.query('lookalike'), null)).toEqual({
      error: { name: 'X', message: 'just data' },
    });
  });

  test(`${area} - no responders is BusUnavailableError`, async () => {
    const err = await pair.a.request(subjects.query('nobody'), {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusUnavailableError);
    expect((err as Error).name).toBe('BusUnavailableError');
  });

  test(`${area} - a slow responder is BusTimeoutError`, async () => {
    pair.b.reply(subjects.query('slow'), () => new Promise((r) => setTimeout(() => r('late'), 1_000)));
    await pair.settle();
    const started = Date.now();
    const err = await pair.a.request(subjects.query('slow'), {}, { timeoutMs: 150 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BusTimeoutError);
    expect((err as BusTimeoutError).timeoutMs).toBe(150);
    expect(Date.now() - started).toBeLessThan(900);
  });

  test(`${area} - subscribers get matching events with subject and payload until they unsubscribe`, async () => {
    const got: [string, unknown][] = [];
    const unsubscribe = pair.b.subscribe('overseer.evt.vm.lab.*.*', (subject, payload) => got.push([subject, payload]));
    await pair.settle();
    pair.a.publish(subjects.evtVm('lab', 101, 'running'), { from: 'stopped' });
    pair.a.publish(subjects.evtVm('other', 101, 'running'), { from: 'x' });
    pair.a.publish(subjects.evtVm('lab', 102, 'stopped'), { from: 'running' });
    await waitFor(() => got.length >= 2);
    expect(got).toEqual([
      ['overseer.evt.vm.lab.101.running', { from: 'stopped' }],
      ['overseer.evt.vm.lab.102.stopped', { from: 'running' }],
    ]);
    unsubscribe();
    await pair.settle();
    pair.a.publish(subjects.evtVm('lab', 103, 'running'), {});
    await new Promise((r) => setTimeout(r, 100));
    expect(got).toHaveLength(2);
  });

  test(`${area} - responders in one queue group share the requests`, async () => {
    const counts = [0, 0];
    pair.b.reply(subjects.query('shared'), () => ++counts[0]!, { queue: 'q' });
    pair.b.reply(subjects.query('shared'), () => ++counts[1]!, { queue: 'q' });
    await pair.settle();
    for (let i = 0; i < 20; i++) await pair.a.request(subjects.query('shared'), {});
    expect(counts[0]! + counts[1]!).toBe(20);
  });

  test(`${area} - bad subjects and payloads are refused before sending`, async () => {
    expect(() => pair.a.publish('overseer.evt.>', {})).toThrow(InvalidSubjectError);
    expect(() => pair.a.publish(subjects.evtLoop('sync', 'tick'), { n: 1n })).toThrow(BusPayloadError);
    await expect(pair.a.request('overseer..x', {})).rejects.toBeInstanceOf(InvalidSubjectError);
    expect(() => pair.a.subscribe('overseer.>.x', () => {})).toThrow(InvalidSubjectError);
  });

  test(`${area} - after close it reports closed and refuses requests`, async () => {
    const statuses: string[] = [];
    pair.a.onStatus((s) => statuses.push(s));
    expect(pair.a.connected).toBe(true);
    await pair.a.close();
    await waitFor(() => statuses.includes('closed'));
    expect(pair.a.connected).toBe(false);
    await expect(pair.a.request(subjects.query('x'), {})).rejects.toBeInstanceOf(BusUnavailableError);
  });
}
