// A person's word on an incident, in the pure machine: acknowledgement (once, status unchanged) and resolution, both
// timeline entries naming who, told in notices that carry who (the audit's actor).
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import type { Condition, IncidentNotice } from '../../machines';
import { incidentInputFromCondition, incidentMachine, incidentStatusOf } from '../../machines';

const stop: Condition = {
  kind: 'vm-unexpected-stop',
  subject: 'vm:lab/101',
  dedupeKey: 'vm-unexpected-stop:vm:lab/101',
  severity: 'critical',
  detail: 'VM lab/101 (web1) stopped with no request behind it',
};

function startIncident() {
  const actor = createActor(incidentMachine, { input: incidentInputFromCondition('i1', stop, 1_000) });
  const notices: IncidentNotice[] = [];
  actor.on('*', (e) => notices.push(e));
  actor.start();
  return {
    actor,
    notices,
    status: () => incidentStatusOf(actor.getSnapshot().value),
    context: () => actor.getSnapshot().context,
  };
}

describe('incident machine: a person', () => {
  it('incident - an acknowledgement is a timeline entry naming who; the status does not change', () => {
    const { actor, notices, status, context } = startIncident();
    actor.send({ type: 'REMEDIATION_STARTED', at: 2_000, action: 'start', requestId: 'r1' });
    actor.send({ type: 'ACKNOWLEDGE', at: 3_000, by: 'tok7', byName: 'bob', note: 'looking at the disk' });
    expect(status()).toBe('remediating');
    expect(context().actions[1]).toEqual({
      at: 3_000,
      action: 'acknowledge',
      by: 'tok7',
      byName: 'bob',
      result: 'looking at the disk',
    });
    expect(context().updatedAt).toBe(3_000);
    expect(notices.at(-1)).toMatchObject({
      type: 'incident.acknowledged',
      status: 'remediating',
      at: 3_000,
      by: 'tok7',
      acknowledgedBy: 'tok7',
      message: 'incident i1 acknowledged by bob: looking at the disk',
    });
  });

  it('incident - only the first acknowledgement counts: a second changes nothing and tells no one', () => {
    const { actor, notices, context } = startIncident();
    actor.send({ type: 'ACKNOWLEDGE', at: 2_000, by: 'tok7', byName: 'bob' });
    const told = notices.length;
    actor.send({ type: 'ACKNOWLEDGE', at: 3_000, by: 'tok8', byName: 'carol' });
    expect(context().actions).toEqual([{ at: 2_000, action: 'acknowledge', by: 'tok7', byName: 'bob' }]);
    expect(notices).toHaveLength(told);
  });

  it('incident - notices after an acknowledgement carry who acknowledged it', () => {
    const { actor, notices } = startIncident();
    actor.send({ type: 'ACKNOWLEDGE', at: 2_000, by: 'tok7' });
    actor.send({ type: 'ESCALATE', at: 3_000, reason: 'crash loop' });
    expect(notices.at(-1)).toMatchObject({ type: 'incident.escalated', acknowledgedBy: 'tok7' });
    expect(notices.at(-1)?.by).toBeUndefined();
    expect(notices[0]?.acknowledgedBy).toBeUndefined();
  });

  it('incident - a resolution by a person is an entry and a notice naming who', () => {
    const { actor, notices, status, context } = startIncident();
    actor.send({ type: 'RESOLVE', at: 4_000, by: 'tok7', byName: 'bob', note: 'VM retired' });
    expect(status()).toBe('resolved');
    expect(context()).toMatchObject({ outcome: 'resolved by bob: VM retired', resolvedAt: 4_000 });
    expect(context().actions).toEqual([
      { at: 4_000, action: 'resolve', by: 'tok7', byName: 'bob', result: 'VM retired' },
    ]);
    expect(notices.at(-1)).toMatchObject({ type: 'incident.resolved', status: 'resolved', by: 'tok7' });
    actor.send({ type: 'ACKNOWLEDGE', at: 5_000, by: 'tok8' });
    expect(context().actions).toHaveLength(1);
  });

  it("incident - a person's entries are never taken for a remediation's result or its outcome", () => {
    const { actor, context } = startIncident();
    actor.send({ type: 'REMEDIATION_STARTED', at: 2_000, action: 'start', requestId: 'r1' });
    actor.send({ type: 'ACKNOWLEDGE', at: 2_500, by: 'tok7' });
    actor.send({ type: 'REMEDIATION_RESULT', at: 3_000, ok: true, detail: 'started' });
    expect(context().actions[0]).toMatchObject({ action: 'start', ok: true, result: 'started' });
    expect(context().actions[1]).toMatchObject({ action: 'acknowledge', by: 'tok7' });
    expect(context().actions[1]?.ok).toBeUndefined();
    actor.send({ type: 'CONDITION_CLEARED', at: 4_000 });
    expect(context().outcome).toBe('remediated by start (request r1)');
  });
});
