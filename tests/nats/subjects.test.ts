import { describe, expect, test } from 'vitest';
import { actorId } from '../../machines/types';
import {
  assertFilter,
  assertSubject,
  eventFilter,
  InvalidSubjectError,
  parseEventSubject,
  parseSubject,
  subjectMatches,
  subjects,
  validateEventFilter,
} from '../../protocol';

function invalid(fn: () => unknown): InvalidSubjectError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidSubjectError);
    return err as InvalidSubjectError;
  }
  throw new Error('expected InvalidSubjectError');
}

describe('subjects', () => {
  test('subjects - builds the request/reply subjects', () => {
    expect(subjects.reqSubmit).toBe('overseer.req.submit');
    expect(subjects.reqCommand('r-1', 'approve')).toBe('overseer.req.r-1.approve');
    expect(subjects.reqCommand('r-1', 'deny')).toBe('overseer.req.r-1.deny');
    expect(subjects.reqCommand('r-1', 'cancel')).toBe('overseer.req.r-1.cancel');
    expect(subjects.query('vms')).toBe('overseer.query.vms');
  });

  test('subjects - builds the event subjects', () => {
    expect(subjects.evtVm('lab', 101, 'state')).toBe('overseer.evt.vm.lab.101.state');
    expect(subjects.evtHost('lab', 'pve1', 'offline')).toBe('overseer.evt.host.lab.pve1.offline');
    expect(subjects.evtReq('r-1', 'awaiting_approval')).toBe('overseer.evt.req.r-1.awaiting_approval');
    expect(subjects.evtIncident('i-9', 'open')).toBe('overseer.evt.incident.i-9.open');
    expect(subjects.evtLoop('sync', 'tick')).toBe('overseer.evt.loop.sync.tick');
    expect(subjects.allEvents).toBe('overseer.evt.>');
  });

  test('subjects - maps actor ids to addresses', () => {
    expect(subjects.actor(actorId.vm('lab', 101))).toBe('overseer.actor.vm.lab.101');
    expect(subjects.actor(actorId.host('lab', 'pve1'))).toBe('overseer.actor.host.lab.pve1');
    expect(subjects.actor(actorId.request('abc'))).toBe('overseer.actor.req.abc');
    expect(subjects.actor(actorId.loop('sync'))).toBe('overseer.actor.loop.sync');
    expect(subjects.actor(actorId.overseer)).toBe('overseer.actor.overseer');
  });

  test('subjects - actor addresses parse back to the same actor id', () => {
    for (const id of ['vm:lab/101', 'host:lab/pve1', 'req:abc', 'loop:sync', 'incident:i1', 'overseer']) {
      expect(parseSubject(subjects.actor(id))).toEqual({ kind: 'actor', actorId: id });
    }
  });

  test('subjects - rejects malformed actor ids', () => {
    for (const id of ['vm:lab', 'vm:lab/x1', 'vm:lab/101/2', 'host:lab', 'thing:x', 'req:', 'req:a.b', 'lab', '']) {
      invalid(() => subjects.actor(id));
    }
  });

  test('subjects - a bad token throws InvalidSubjectError naming it', () => {
    const cases: [() => unknown, string, string][] = [
      [() => subjects.evtVm('la.b', 101, 'x'), 'cluster', 'la.b'],
      [() => subjects.evtVm('lab', 101, 'a*'), 'event', 'a*'],
      [() => subjects.evtHost('lab', 'pve>', 'x'), 'node', 'pve>'],
      [() => subjects.evtHost('lab', 'pve 1', 'x'), 'node', 'pve 1'],
      [() => subjects.evtReq('', 'approved'), 'request id', ''],
      [() => subjects.evtIncident('i\t1', 'open'), 'incident id', 'i\t1'],
      [() => subjects.evtLoop('sync', 'a\u0000b'), 'event', 'a\u0000b'],
      [() => subjects.query('x'.repeat(129)), 'query', 'x'.repeat(129)],
      [() => subjects.reqCommand('r.1', 'approve'), 'request id', 'r.1'],
    ];
    for (const [fn, part, value] of cases) {
      const err = invalid(fn);
      expect(err.part).toBe(part);
      expect(err.value).toBe(value);
      expect(err.name).toBe('InvalidSubjectError');
      expect(err.message).toContain(part);
    }
  });

  test('subjects - rejects bad vmids and commands', () => {
    expect(invalid(() => subjects.evtVm('lab', 1.5, 'x')).part).toBe('vmid');
    expect(invalid(() => subjects.evtVm('lab', -1, 'x')).part).toBe('vmid');
    expect(invalid(() => subjects.evtVm('lab', Number.NaN, 'x')).part).toBe('vmid');
    expect(invalid(() => subjects.reqCommand('r1', 'destroy' as 'approve')).part).toBe('command');
  });

  test('subjects - parses every subject back into its parts', () => {
    expect(parseSubject('overseer.evt.vm.lab.101.state')).toEqual({
      kind: 'evt.vm',
      cluster: 'lab',
      vmid: 101,
      event: 'state',
    });
    expect(parseSubject('overseer.evt.host.lab.pve1.offline')).toEqual({
      kind: 'evt.host',
      cluster: 'lab',
      node: 'pve1',
      event: 'offline',
    });
    expect(parseSubject('overseer.evt.req.r1.approved')).toEqual({ kind: 'evt.req', id: 'r1', status: 'approved' });
    expect(parseSubject('overseer.evt.incident.i1.open')).toEqual({ kind: 'evt.incident', id: 'i1', status: 'open' });
    expect(parseSubject('overseer.evt.loop.sync.tick')).toEqual({ kind: 'evt.loop', name: 'sync', event: 'tick' });
    expect(parseSubject(subjects.reqSubmit)).toEqual({ kind: 'req.submit' });
    expect(parseSubject('overseer.req.r1.cancel')).toEqual({ kind: 'req.command', id: 'r1', command: 'cancel' });
    expect(parseSubject('overseer.query.vms')).toEqual({ kind: 'query', what: 'vms' });
  });

  test('subjects - parse rejects what is not an Overseer subject', () => {
    for (const s of [
      'other.evt.vm.lab.101.x',
      'overseer.evt.vm.lab.101',
      'overseer.evt.vm.lab.abc.x',
      'overseer.evt.pod.a.b',
      'overseer.req.r1.explode',
      'overseer.evt.vm.*.101.x',
      'overseer..evt',
      '',
    ]) {
      invalid(() => parseSubject(s));
    }
    invalid(() => parseEventSubject('overseer.query.vms'));
    expect(parseEventSubject('overseer.evt.req.r1.denied').kind).toBe('evt.req');
  });

  test('subjects - event filters select one VM, one kind or everything', () => {
    expect(eventFilter()).toBe('overseer.evt.>');
    expect(eventFilter({ kind: 'vm', cluster: 'lab', vmid: 101 })).toBe('overseer.evt.vm.lab.101.*');
    expect(eventFilter({ kind: 'vm' })).toBe('overseer.evt.vm.*.*.*');
    expect(eventFilter({ kind: 'host', node: 'pve1' })).toBe('overseer.evt.host.*.pve1.*');
    expect(eventFilter({ kind: 'req' })).toBe('overseer.evt.req.*.*');
    expect(eventFilter({ kind: 'req', status: 'denied' })).toBe('overseer.evt.req.*.denied');
    expect(eventFilter({ kind: 'incident', id: 'i1' })).toBe('overseer.evt.incident.i1.*');
    expect(eventFilter({ kind: 'loop', name: 'sync' })).toBe('overseer.evt.loop.sync.*');
    invalid(() => eventFilter({ kind: 'vm', cluster: 'a.b' }));
    invalid(() => eventFilter({ kind: 'pod' } as unknown as Parameters<typeof eventFilter>[0]));
  });

  test('subjects - filters match the subjects they select', () => {
    const vm101 = eventFilter({ kind: 'vm', cluster: 'lab', vmid: 101 });
    expect(subjectMatches(vm101, subjects.evtVm('lab', 101, 'state'))).toBe(true);
    expect(subjectMatches(vm101, subjects.evtVm('lab', 102, 'state'))).toBe(false);
    expect(subjectMatches(eventFilter(), subjects.evtLoop('sync', 'tick'))).toBe(true);
    expect(subjectMatches(eventFilter({ kind: 'req' }), subjects.evtReq('r1', 'queued'))).toBe(true);
    expect(subjectMatches(eventFilter({ kind: 'req' }), subjects.evtVm('lab', 1, 'x'))).toBe(false);
    expect(subjectMatches('a.>', 'a')).toBe(false);
    expect(subjectMatches('a.*', 'a.b.c')).toBe(false);
    expect(subjectMatches('a.b', 'a.b')).toBe(true);
  });

  test('subjects - user filters must be valid NATS subjects under overseer.evt', () => {
    for (const ok of ['overseer.evt.>', 'overseer.evt.vm.lab.*.*', 'overseer.evt.req.r1.>', 'overseer.evt.*.*.*.x']) {
      expect(validateEventFilter(ok)).toBe(ok);
    }
    for (const bad of [
      'overseer.evt',
      'overseer.>',
      'overseer.req.>',
      '>',
      'overseer.evt.>.x',
      'overseer.evt.vm*',
      'overseer.evt..x',
      'overseer.evt.vm lab',
      ' overseer.evt.>',
      `overseer.evt.${'a.'.repeat(600)}x`,
      'overseer.evt.nosuch.>',
      42,
    ]) {
      expect(invalid(() => validateEventFilter(bad)).part).toBe('filter');
    }
    // A kind no event has would follow nothing: it is named.
    expect(invalid(() => validateEventFilter('overseer.evt.vms.>')).message).toBe(
      "invalid filter 'overseer.evt.vms.>': no event kind 'vms' (kinds: vm, host, req, incident, loop, lab, lease)",
    );
  });

  test('subjects - publish subjects refuse wildcards, filters accept them', () => {
    expect(assertSubject('overseer.evt.vm.lab.1.x')).toBe('overseer.evt.vm.lab.1.x');
    invalid(() => assertSubject('overseer.evt.>'));
    invalid(() => assertSubject('overseer.*.x'));
    expect(assertFilter('overseer.*.x')).toBe('overseer.*.x');
    invalid(() => assertFilter('overseer.>.x'));
  });

  test('subjects - a publish subject is accepted exactly when every token passes the token-by-token check', () => {
    // assertSubject recognises a plain subject in one pass; assertFilter (no wildcards used) checks token by token.
    const chars = ['a', 'Z', '9', '-', '_', ':', 'é', '.', '*', '>', ' ', '\t', '\u0000', '\u001f', '\u007f', '\u00a0'];
    let seed = 7;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed;
    };
    const samples = [
      'overseer.evt.vm.big.101.state',
      'x'.repeat(128),
      'x'.repeat(129),
      `a.${'y'.repeat(129)}`,
      '',
      '.',
    ];
    samples.push(`${'a.'.repeat(511)}a`, `${'a.'.repeat(512)}a`);
    for (let i = 0; i < 5_000; i++) {
      const length = 1 + (next() % 12);
      samples.push(Array.from({ length }, () => chars[next() % chars.length]).join(''));
    }
    for (const subject of samples) {
      const wildcardFree = !/(^|\.)[*>](\.|$)/.test(subject);
      if (!wildcardFree) continue;
      let slow: boolean;
      try {
        assertFilter(subject);
        slow = true;
      } catch {
        slow = false;
      }
      let fast: boolean;
      try {
        assertSubject(subject);
        fast = true;
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidSubjectError);
        fast = false;
      }
      expect(fast, JSON.stringify(subject)).toBe(slow);
    }
  });
});
