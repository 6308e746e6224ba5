// The machine model read from real machine definitions (machine.toJSON()), and active states from snapshot values.
import { describe, expect, it } from 'vitest';
import { hostMachine } from '../../machines/host.machine';
import { vmMachine } from '../../machines/vm.machine';
import { activePaths, eventLabel, guardName, parseMachine, valueFromName } from '../src/inspector/machine-model';

/** The definition as GET /v1/actors/{id}/inspect carries it: machine.toJSON() through JSON. */
const wire = (machine: { toJSON(): unknown }): unknown => JSON.parse(JSON.stringify(machine.toJSON()));

describe('machine model', () => {
  it('machine model - reads every state of the VM machine with its type', () => {
    const model = parseMachine(wire(vmMachine));
    expect(model.id).toBe('vm');
    expect(model.root.initial).toBe('discovered');
    expect(model.states.get('running')?.type).toBe('atomic');
    expect(model.states.get('destroyed')?.type).toBe('final');
    expect(model.root.children.map((s) => s.key)).toContain('rollingBack');
  });

  it('machine model - names a transition by its event and its guard with parameters', () => {
    const model = parseMachine(wire(vmMachine));
    const start = model.transitions.find((t) => t.source === '' && t.targets.includes('starting'));
    expect(start).toMatchObject({ event: 'OPERATION_STARTED', guard: 'isOperation: start' });
    const missing = model.transitions.filter((t) => t.event === 'MISSING' && t.targets.includes('destroyed'));
    expect(missing.map((t) => t.guard)).toEqual(['missingLimitReached']);
  });

  it('machine model - nests compound states by path, with their initial child and invocations', () => {
    const model = parseMachine(wire(hostMachine));
    const degraded = model.states.get('degraded');
    expect(degraded?.type).toBe('compound');
    expect(degraded?.initial).toBe('degraded.overloaded');
    expect(model.states.get('degraded.unresponsive')?.invokes).toEqual(['offlineDeadline']);
  });

  it('machine model - active paths of a nested or parallel value include every ancestor', () => {
    expect([...activePaths('running')]).toEqual(['running']);
    expect([...activePaths({ degraded: 'overloaded' })].sort()).toEqual(['degraded', 'degraded.overloaded']);
    expect([...activePaths({ a: 'x', b: { c: 'y' } })].sort()).toEqual(['a', 'a.x', 'b', 'b.c', 'b.c.y']);
  });

  it('machine model - a state name as the actor list gives it becomes its value', () => {
    expect(valueFromName('running')).toBe('running');
    expect(valueFromName('degraded.overloaded')).toEqual({ degraded: 'overloaded' });
    expect(valueFromName('a.x,b.y')).toEqual({ a: 'x', b: 'y' });
  });

  it('machine model - labels built-in events for people', () => {
    expect(eventLabel('xstate.done.actor.gate')).toBe('done: gate');
    expect(eventLabel('xstate.error.actor.plan')).toBe('error: plan');
    expect(eventLabel('xstate.after.5000.request.awaiting')).toBe('after 5000 ms');
    expect(eventLabel('')).toBe('always');
    expect(guardName(undefined)).toBeUndefined();
  });
});
