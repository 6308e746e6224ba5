// RestingResolver (actors/resolve-resting.ts) gives, for a stored VM snapshot, the object XState's resolveState gives:
// every field, in every state a VM can be stored in, and each snapshot its own context and children.
import { describe, expect, it } from 'vitest';
import { RestingResolver } from '../../actors/resolve-resting';
import { vmMachine } from '../../machines/vm.machine';
import { vmInfo } from '../machines/fixtures';

const stored = (value: string, n: number) => ({
  status: 'active',
  value,
  historyValue: {},
  context: { info: vmInfo({ vmid: 100 + n }), lastSeen: n, missing: 0 },
  children: {},
});

describe('resolve resting', () => {
  it('resolve resting - equals resolveState field for field in every state a VM is stored in', () => {
    const resolver = new RestingResolver(vmMachine);
    const states = Object.keys(vmMachine.root.states);
    expect(states).toContain('running');
    for (const [n, value] of states.entries()) {
      for (const copy of [0, 1]) {
        const persisted = stored(value, n * 2 + copy);
        const ours = resolver.resolve(persisted) as unknown as Record<string, unknown>;
        const xstate = vmMachine.resolveState(persisted as never) as unknown as Record<string, unknown>;
        expect(Object.keys(ours).sort(), value).toEqual(Object.keys(xstate).sort());
        for (const key of Object.keys(xstate)) expect(ours[key], `${value}.${key}`).toEqual(xstate[key]);
        expect(ours.context).toBe(persisted.context);
        expect(JSON.stringify(vmMachine.getPersistedSnapshot(ours as never))).toBe(
          JSON.stringify(vmMachine.getPersistedSnapshot(xstate as never)),
        );
      }
    }
  });

  it('resolve resting - snapshots in one state share no context or children, and a final state is done', () => {
    const resolver = new RestingResolver(vmMachine);
    const a = resolver.resolve(stored('running', 1));
    const b = resolver.resolve(stored('running', 2));
    expect(a.context.info.vmid).toBe(101);
    expect(b.context.info.vmid).toBe(102);
    expect(a.children).not.toBe(b.children);
    expect(resolver.resolve(stored('destroyed', 3)).status).toBe('done');
    expect(a.matches('running')).toBe(true);
  });
});
