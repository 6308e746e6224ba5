// What live events mean for the page: the topics they touch and the facts they carry.
import { describe, expect, it } from 'vitest';
import { effectsOf } from '../src/live/event-effects';
import { parseEvent } from '../src/live/feed';
import { parseHash } from '../src/router';

const event = (subject: string, payload: Record<string, unknown>) => parseEvent(JSON.stringify({ subject, payload }))!;

describe('event effects', () => {
  it("event effects - a VM's state change touches the guest, its actor and the fleet, with the change", () => {
    const e = effectsOf(
      event('overseer.evt.vm.lab.101.state', { id: 'vm:lab/101', from: 'running', to: 'stopping', at: 5 }),
    );
    expect(e.topics).toEqual(['actor:vm:lab/101', 'vms', 'vm:lab/101']);
    expect(e.vm).toEqual({
      cluster: 'lab',
      vmid: 101,
      key: 'lab/101',
      change: { from: 'running', to: 'stopping', at: 5 },
    });
  });

  it('event effects - a subject under a namespace is read the same', () => {
    const e = effectsOf(event('overseer.ns1.evt.host.lab.pve2.state', { id: 'host:lab/pve2', to: 'offline' }));
    expect(e.host).toEqual({ key: 'lab/pve2', to: 'offline' });
  });

  it("event effects - a request's and an incident's events touch the guest they are about", () => {
    const r = effectsOf(event('overseer.evt.req.r1.completed', { id: 'r1', target: { cluster: 'lab', vmid: 7 } }));
    expect(r.topics).toEqual(['actor:req:r1', 'requests', 'vm:lab/7']);
    const i = effectsOf(event('overseer.evt.incident.i1.open', { incidentId: 'i1', subject: 'vm:lab/7' }));
    expect(i.topics).toEqual(['actor:incident:i1', 'incidents', 'vm:lab/7']);
  });

  it('event effects - a sync that found new or missing guests asks for the list again', () => {
    expect(effectsOf(event('overseer.evt.loop.sync.synced', { created: 1, missing: 0 })).reloadVms).toBe(true);
    expect(effectsOf(event('overseer.evt.loop.sync.synced', { created: 0, changed: 4 })).reloadVms).toBeUndefined();
  });

  it('event effects - a lab event touches the lab actor of its cluster', () => {
    expect(effectsOf(event('overseer.evt.lab.web.ready', { lab: 'web', cluster: 'lab' })).topics).toEqual([
      'actor:lab:lab/web',
      'labs',
    ]);
  });

  it('event effects - a message that is not an event is dropped', () => {
    expect(parseEvent('not json')).toBeUndefined();
    expect(parseEvent(JSON.stringify({ subject: 'other.subject', payload: {} }))).toBeUndefined();
  });
});

describe('routes', () => {
  it('routes - an actor id keeps its colon and slashes', () => {
    expect(parseHash('#/inspect/vm:lab/101')).toMatchObject({ view: 'inspect', rest: 'vm:lab/101' });
    expect(parseHash('#/inspect/vm%3Alab%2F101')).toMatchObject({ view: 'inspect', rest: 'vm:lab/101' });
  });

  it('routes - a guest, a lab and an unknown view', () => {
    expect(parseHash('#/vm/lab/101')).toMatchObject({ view: 'vm', args: ['lab', '101'] });
    expect(parseHash('#/labs/lab/three-tier')).toMatchObject({ view: 'labs', args: ['lab', 'three-tier'] });
    expect(parseHash('#/nowhere').view).toBe('fleet');
    expect(parseHash('').view).toBe('fleet');
  });
});
