import { describe, expect, it } from 'vitest';
import { createActor, fromCallback } from 'xstate';
import { SimulatedClock } from '../../adapters/clock';
import type { HostInfo } from '../../machines';
import { hostMachine } from '../../machines';
import { hostInfo } from './fixtures';

const thresholds = { cpu: 0.9, mem: 0.95, offlineGraceMs: 60_000 };

function startHost(info: HostInfo = hostInfo(), quorate = true) {
  const clock = new SimulatedClock(0);
  const machine = hostMachine.provide({
    actors: {
      offlineDeadline: fromCallback<{ type: string }, { at: number }>(({ input, sendBack }) => {
        const h = clock.setTimeout(() => sendBack({ type: 'GRACE_EXPIRED' }), input.at - clock.now());
        return () => clock.clearTimeout(h);
      }),
    },
  });
  const actor = createActor(machine, { input: { info, quorate, at: 0, thresholds }, clock }).start();
  return { actor, clock };
}

describe('host machine', () => {
  it('host - online, overloaded and quorum-less hosts are told apart', () => {
    expect(startHost().actor.getSnapshot().value).toBe('online');
    expect(startHost(hostInfo({ cpu: 0.95 })).actor.getSnapshot().value).toEqual({ degraded: 'overloaded' });
    expect(startHost(hostInfo(), false).actor.getSnapshot().value).toEqual({ degraded: 'noQuorum' });
  });

  it('host - a node reported offline is offline only after the grace period', () => {
    const { actor, clock } = startHost();
    actor.send({ type: 'OBSERVED', info: hostInfo({ status: 'offline' }), quorate: true, at: 0 });
    expect(actor.getSnapshot().value).toEqual({ degraded: 'unresponsive' });
    clock.advance(59_000);
    expect(actor.getSnapshot().value).toEqual({ degraded: 'unresponsive' });
    clock.advance(1_000);
    expect(actor.getSnapshot().value).toBe('offline');
  });

  it('host - a node back within the grace period is online again', () => {
    const { actor, clock } = startHost();
    actor.send({ type: 'OBSERVED', info: hostInfo({ status: 'offline' }), quorate: true, at: 0 });
    clock.advance(30_000);
    actor.send({ type: 'OBSERVED', info: hostInfo(), quorate: true, at: 30_000 });
    clock.advance(60_000);
    expect(actor.getSnapshot().value).toBe('online');
  });

  it('host - an unreadable cluster makes the host unknown', () => {
    const { actor } = startHost();
    actor.send({ type: 'CLUSTER_UNREACHABLE', at: 1 });
    expect(actor.getSnapshot().value).toBe('unknown');
  });
});
