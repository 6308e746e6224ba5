// "Nothing to do": a power action on a VM already in the state it leads to is not approved but answered
// `nothing_to_do`, unless a check denies it.
import { describe, expect, it } from 'vitest';
import { evaluateGate, nothingToDo, settleNothingToDo } from '../../machines/gate';
import { addVms, gateInput, makeVm, makeWorld, patchCluster, patchVm, vmRequest } from './fixtures';

/** The gate as the GateService applies it: the checks, then "nothing to do". */
const decide = (input: ReturnType<typeof gateInput>) => settleNothingToDo(evaluateGate(input), input);

describe('nothing to do', () => {
  it('nothing to do - stop and shutdown of a stopped VM, start of a running one', () => {
    expect(nothingToDo(gateInput(vmRequest('stop', 102)))).toBe('VM lab/102 is already stopped');
    expect(nothingToDo(gateInput(vmRequest('shutdown', 102)))).toBe('VM lab/102 is already stopped');
    expect(nothingToDo(gateInput(vmRequest('start', 101)))).toBe('VM lab/101 is already running');
  });

  it('nothing to do - actions with work to do, and VMs in another or an unknown state, are left to the gate', () => {
    expect(nothingToDo(gateInput(vmRequest('stop', 101)))).toBeUndefined();
    expect(nothingToDo(gateInput(vmRequest('start', 102)))).toBeUndefined();
    expect(nothingToDo(gateInput(vmRequest('reboot', 101)))).toBeUndefined();
    expect(nothingToDo(gateInput(vmRequest('destroy', 102)))).toBeUndefined();
    const world = makeWorld();
    patchVm(world, 101, { status: 'paused' });
    patchVm(world, 102, { status: 'unknown' });
    expect(nothingToDo(gateInput(vmRequest('stop', 101), world))).toBeUndefined();
    expect(nothingToDo(gateInput(vmRequest('stop', 102), world))).toBeUndefined();
    expect(nothingToDo(gateInput(vmRequest('stop', 999), world))).toBeUndefined();
  });

  it('nothing to do - the power state the platform reported just now decides over the inventory', () => {
    const input = gateInput(vmRequest('stop', 102));
    expect(nothingToDo({ ...input, powerStatus: new Map([['lab/102', 'running']]) })).toBeUndefined();
    expect(nothingToDo({ ...input, powerStatus: new Map([['lab/102', 'unknown']]) })).toBeUndefined();
    expect(nothingToDo({ ...input, powerStatus: new Map([['lab/102', 'stopped']]) })).toBe(
      'VM lab/102 is already stopped',
    );
  });

  it('nothing to do - the decision is nothing_to_do with the reason, the checks kept', () => {
    const result = decide(gateInput(vmRequest('stop', 102)));
    expect(result.decision).toBe('nothing_to_do');
    expect(result.reasons).toEqual(['VM lab/102 is already stopped']);
    expect(result.checks.every((c) => c.outcome === 'pass')).toBe(true);
  });

  it('nothing to do - no approval is needed for doing nothing', () => {
    const world = makeWorld();
    patchVm(world, 114, { status: 'stopped' });
    const input = gateInput(vmRequest('stop', 114, { force: true }), world);
    expect(evaluateGate(input).decision).toBe('awaiting_approval');
    expect(decide(input)).toMatchObject({ decision: 'nothing_to_do', reasons: ['VM lab/114 is already stopped'] });
  });

  it('nothing to do - a denial stays a denial', () => {
    const world = makeWorld();
    patchCluster(world, { quorate: false });
    const result = decide(gateInput(vmRequest('stop', 102), world));
    expect(result.decision).toBe('denied');
    expect(result.reasons).toEqual(['cluster lab has lost quorum: no mutating operation']);
    const observer = decide(gateInput(vmRequest('stop', 102, { requester: { id: 'olga', role: 'observer' } })));
    expect(observer.decision).toBe('denied');
  });
});

describe('nothing to do: containers', () => {
  it('gate - a container already stopped is named as a container', () => {
    const world = makeWorld();
    addVms(world, makeVm(200, { name: 'dns', type: 'lxc', status: 'stopped' }));
    expect(nothingToDo(gateInput(vmRequest('stop', 200), world))).toBe('container lab/200 is already stopped');
  });
});
