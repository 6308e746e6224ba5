// persistedVmSnapshot (actors/entity-actors.ts) builds exactly what XState's getPersistedSnapshot gives for a VM
// actor, in every kind of state a VM reaches, down to the JSON text that is stored.
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { persistedVmSnapshot } from '../../actors/entity-actors';
import { vmMachine } from '../../machines/vm.machine';
import { vmInfo } from '../machines/fixtures';

describe('vm persisted snapshot', () => {
  it('vm persisted snapshot - equals getPersistedSnapshot, text for text, from start to destroyed', () => {
    const actor = createActor(vmMachine, { input: { info: vmInfo(), at: 1 } });
    const seen: string[] = [];
    actor.subscribe((snapshot) => {
      seen.push(String(snapshot.value));
      const direct = persistedVmSnapshot(snapshot);
      const generic = vmMachine.getPersistedSnapshot(snapshot);
      expect(direct).toEqual(generic);
      expect(JSON.stringify(direct)).toBe(JSON.stringify(generic));
    });
    actor.start();
    actor.send({ type: 'OBSERVED', info: vmInfo({ status: 'stopped', tags: ['a', 'b'] }), at: 2 });
    actor.send({ type: 'OBSERVED', info: vmInfo({ status: 'running' }), at: 3 });
    actor.send({
      type: 'OBSERVED',
      info: vmInfo({ status: 'stopped' }),
      at: 4,
      stop: { by: 'unknown', error: 'the task log could not be read' },
    });
    actor.send({ type: 'UNREACHABLE', at: 5 });
    actor.send({ type: 'OPERATION_STARTED', requestId: 'r1', action: 'destroy' });
    actor.send({ type: 'OPERATION_ENDED', requestId: 'r1', ok: true });
    expect(seen).toEqual(['running', 'stopped', 'running', 'running', 'unknown', 'destroying', 'destroyed']);
    expect(actor.getSnapshot().status).toBe('done');
  });
});
