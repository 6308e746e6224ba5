import { describe, expect, test } from 'vitest';
import { flushMicrotasks, SimulatedClock } from '../../adapters/clock';
import { BusTimeoutError, BusUnavailableError, createMemoryBus } from '../../adapters/nats';
import { subjects } from '../../protocol';
import { busContract } from './bus-contract';

describe('memory bus', () => {
  busContract('memory bus', async () => {
    const bus = createMemoryBus();
    return { a: bus, b: bus, settle: () => flushMicrotasks(2), close: () => bus.close() };
  });

  test('memory bus - request timeouts run on the injected clock', async () => {
    const clock = new SimulatedClock(0);
    const bus = createMemoryBus({ clock });
    bus.reply(subjects.query('never'), () => new Promise(() => {}));
    const pending = bus.request(subjects.query('never'), {}, { timeoutMs: 30_000 }).catch((e: unknown) => e);
    await flushMicrotasks();
    clock.advance(29_999);
    await flushMicrotasks();
    clock.advance(1);
    expect(await pending).toBeInstanceOf(BusTimeoutError);
  });

  test('memory bus - a simulated disconnect fails requests and holds publishes until reconnect', async () => {
    const bus = createMemoryBus();
    const statuses: string[] = [];
    const got: string[] = [];
    bus.onStatus((s) => statuses.push(s));
    bus.subscribe(subjects.allEvents, (s) => got.push(s));
    bus.reply(subjects.query('vms'), () => []);
    bus.simulateDisconnect();
    expect(bus.connected).toBe(false);
    await expect(bus.request(subjects.query('vms'), {})).rejects.toBeInstanceOf(BusUnavailableError);
    bus.publish(subjects.evtLoop('sync', 'tick'), { n: 1 });
    await flushMicrotasks(2);
    expect(got).toEqual([]);
    bus.simulateReconnect();
    await flushMicrotasks(2);
    expect(got).toEqual(['overseer.evt.loop.sync.tick']);
    expect(statuses).toEqual(['disconnected', 'connected']);
    expect(bus.published).toEqual([{ subject: 'overseer.evt.loop.sync.tick', payload: { n: 1 } }]);
  });
});
