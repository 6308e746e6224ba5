// GET /v1/events relays NATS events as Server-Sent Events.
import { describe, expect, it } from 'vitest';
import { subjects } from '../../protocol';
import { errorOf, setupGateway } from './setup';

/** Reads SSE messages (blank-line separated blocks) from a response body until `count` data messages. */
async function readMessages(res: Response, count: number): Promise<{ event?: string; id?: string; data: string }[]> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const messages: { event?: string; id?: string; data: string }[] = [];
  let buffer = '';
  while (messages.filter((m) => m.event === undefined).length < count) {
    const { done, value } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let end = buffer.indexOf('\n\n');
    while (end >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      end = buffer.indexOf('\n\n');
      const msg: { event?: string; id?: string; data: string } = { data: '' };
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) msg.event = line.slice(7);
        else if (line.startsWith('id: ')) msg.id = line.slice(4);
        else if (line.startsWith('data: ')) msg.data += line.slice(6);
      }
      if (msg.data !== '' || msg.event) messages.push(msg);
    }
  }
  await reader.cancel();
  return messages;
}

const tick = () => new Promise((r) => setTimeout(r, 5));

describe('gateway events', () => {
  it('events - a published event is relayed with its subject and payload', async () => {
    const gw = setupGateway();
    const res = await gw.call('GET', '/v1/events', { token: gw.core.tokens.observer });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reading = readMessages(res, 2);
    await tick();
    gw.bus.publish(subjects.evtReq('r1', 'approved'), { id: 'r1', status: 'approved' });
    gw.bus.publish(subjects.evtVm('lab', 101, 'stopped'), { vmid: 101 });
    const messages = await reading;
    // A bus without the events stream: live events, without ids (there is nothing to resume from).
    expect(messages[0]).toEqual({
      event: 'ready',
      data: JSON.stringify({ filter: 'overseer.evt.>', resumable: false }),
    });
    expect(messages.slice(1)).toEqual([
      {
        data: JSON.stringify({ subject: 'overseer.evt.req.r1.approved', payload: { id: 'r1', status: 'approved' } }),
      },
      { data: JSON.stringify({ subject: 'overseer.evt.vm.lab.101.stopped', payload: { vmid: 101 } }) },
    ]);
  });

  it('events - the filter narrows what is relayed', async () => {
    const gw = setupGateway();
    const res = await gw.call('GET', '/v1/events?filter=overseer.evt.req.>', { token: gw.core.tokens.observer });
    const reading = readMessages(res, 1);
    await tick();
    gw.bus.publish(subjects.evtVm('lab', 101, 'stopped'), {});
    gw.bus.publish(subjects.evtReq('r9', 'denied'), { id: 'r9' });
    const messages = await reading;
    expect(messages.map((m) => m.data).at(-1)).toContain('overseer.evt.req.r9.denied');
    expect(messages).toHaveLength(2);
  });

  it('events - a closed stream unsubscribes', async () => {
    const gw = setupGateway();
    const res = await gw.call('GET', '/v1/events', { token: gw.core.tokens.observer });
    await readMessages(res, 0);
    await tick();
    const metrics = await (await gw.call('GET', '/metrics')).text();
    expect(metrics).toContain('overseer_sse_clients 0');
  });

  it('events - a slow client is told how many events it lost', async () => {
    const gw = setupGateway({ sseMaxPending: 2 });
    const res = await gw.call('GET', '/v1/events', { token: gw.core.tokens.observer });
    for (let i = 0; i < 5; i++) gw.bus.publish(subjects.evtLoop('sync', `tick${i}`), { i });
    await tick();
    const messages = await readMessages(res, 2);
    expect(messages.find((m) => m.event === 'dropped')).toEqual({ event: 'dropped', data: '{"dropped":3}' });
  });

  it('events - bad filters are 400 naming the filter', async () => {
    const gw = setupGateway();
    for (const filter of ['overseer.req.>', 'overseer.evt', 'overseer.evt.>.x', 'overseer.evt.a b', '>']) {
      const res = await gw.call('GET', `/v1/events?filter=${encodeURIComponent(filter)}`, {
        token: gw.core.tokens.observer,
      });
      expect(res.status, filter).toBe(400);
      expect(await errorOf(res)).toMatchObject({ field: 'filter', in: 'query' });
    }
  });
});
