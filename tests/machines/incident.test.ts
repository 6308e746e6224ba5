import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import type { Condition, IncidentNotice } from '../../machines';
import { incidentActorId, incidentInputFromCondition, incidentMachine, incidentStatusOf } from '../../machines';

const stop: Condition = {
  kind: 'vm-unexpected-stop',
  subject: 'vm:lab/101',
  dedupeKey: 'vm-unexpected-stop:vm:lab/101',
  severity: 'warning',
  detail: 'VM lab/101 (web1) stopped with no request behind it',
};

function startIncident(condition = stop) {
  const actor = createActor(incidentMachine, { input: incidentInputFromCondition('i1', condition, 1_000) });
  const notices: IncidentNotice[] = [];
  actor.on('*', (e) => notices.push(e));
  actor.start();
  const status = () => incidentStatusOf(actor.getSnapshot().value);
  return { actor, notices, status, context: () => actor.getSnapshot().context };
}

describe('incident machine', () => {
  it('incident - opens from a condition and tells so once', () => {
    const { notices, status, context } = startIncident();
    expect(status()).toBe('open');
    expect(context()).toMatchObject({
      id: 'i1',
      kind: 'vm-unexpected-stop',
      subject: 'vm:lab/101',
      openedAt: 1_000,
      occurrences: 1,
      remediationAttempts: 0,
      actions: [],
    });
    expect(notices.map((n) => n.type)).toEqual(['incident.opened']);
    expect(notices[0]).toMatchObject({ incidentId: 'i1', status: 'open', at: 1_000 });
    expect(incidentActorId('i1')).toBe('incident:i1');
  });

  it('incident - open, remediating, resolved when the condition clears after a successful remediation', () => {
    const { actor, notices, status, context } = startIncident();
    actor.send({ type: 'REMEDIATION_STARTED', at: 2_000, action: 'start', requestId: 'r1' });
    expect(status()).toBe('remediating');
    actor.send({ type: 'REMEDIATION_RESULT', at: 3_000, ok: true, detail: 'started' });
    // Success of the action is not resolution: the monitor must stop seeing the condition.
    expect(status()).toBe('remediating');
    actor.send({ type: 'CONDITION_CLEARED', at: 4_000 });
    expect(status()).toBe('resolved');
    expect(actor.getSnapshot().status).toBe('done');
    expect(context()).toMatchObject({
      remediationAttempts: 1,
      actions: [{ at: 2_000, action: 'start', requestId: 'r1', ok: true, result: 'started' }],
      outcome: 'remediated by start (request r1)',
      resolvedAt: 4_000,
      updatedAt: 4_000,
    });
    expect(notices.map((n) => n.type)).toEqual(['incident.opened', 'incident.remediating', 'incident.resolved']);
  });

  it('incident - a failed remediation returns it to open and says so', () => {
    const { actor, notices, status, context } = startIncident();
    actor.send({ type: 'REMEDIATION_STARTED', at: 2_000, action: 'start', requestId: 'r1' });
    actor.send({ type: 'REMEDIATION_RESULT', at: 3_000, ok: false, detail: 'lock timeout', requestId: 'r1' });
    expect(status()).toBe('open');
    expect(context().actions[0]).toMatchObject({ ok: false, result: 'lock timeout' });
    expect(notices.at(-1)).toMatchObject({ type: 'incident.remediationFailed', status: 'open' });
  });

  it('incident - open resolves when the condition clears by itself', () => {
    const { actor, status, context, notices } = startIncident();
    actor.send({ type: 'CONDITION_CLEARED', at: 5_000 });
    expect(status()).toBe('resolved');
    expect(context().outcome).toBe('the condition cleared by itself');
    expect(notices.at(-1)).toMatchObject({ type: 'incident.resolved', at: 5_000 });
  });

  it('incident - dedupe: the same condition seen again updates the incident, never opens another', () => {
    const { actor, notices, status, context } = startIncident();
    actor.send({ type: 'CONDITION_SEEN', at: 2_000, detail: 'still stopped' });
    actor.send({ type: 'CONDITION_SEEN', at: 3_000, detail: 'still stopped', data: { n: 3 } });
    expect(status()).toBe('open');
    expect(context()).toMatchObject({
      occurrences: 3,
      lastSeenAt: 3_000,
      detail: 'still stopped',
      data: { n: 3 },
      openedAt: 1_000,
    });
    // Sightings are not news.
    expect(notices.map((n) => n.type)).toEqual(['incident.opened']);
  });

  it('incident - a sighting with a higher severity raises it and tells so', () => {
    const { actor, notices, context } = startIncident();
    actor.send({ type: 'CONDITION_SEEN', at: 2_000, detail: 'worse', severity: 'critical' });
    expect(context().severity).toBe('critical');
    expect(notices.at(-1)).toMatchObject({ type: 'incident.severityRaised', severity: 'critical' });
    actor.send({ type: 'CONDITION_SEEN', at: 3_000, detail: 'better', severity: 'warning' });
    expect(context().severity).toBe('warning');
    expect(notices).toHaveLength(2);
  });

  it('incident - escalation from remediating stops remediation; it resolves when the condition clears', () => {
    const { actor, notices, status, context } = startIncident();
    actor.send({ type: 'REMEDIATION_STARTED', at: 2_000, action: 'start', requestId: 'r1' });
    actor.send({ type: 'ESCALATE', at: 3_000, reason: 'restarted 3 times within 600s' });
    expect(status()).toBe('escalated');
    expect(notices.at(-1)).toMatchObject({
      type: 'incident.escalated',
      status: 'escalated',
      message: expect.stringContaining('restarted 3 times'),
    });
    // A person's action is recorded but is not an automatic attempt, and does not move the incident.
    actor.send({ type: 'REMEDIATION_STARTED', at: 3_500, action: 'start', requestId: 'r2' });
    expect(status()).toBe('escalated');
    expect(context().remediationAttempts).toBe(1);
    actor.send({ type: 'CONDITION_SEEN', at: 3_600, detail: 'still stopped' });
    expect(status()).toBe('escalated');
    actor.send({ type: 'CONDITION_CLEARED', at: 4_000 });
    expect(status()).toBe('resolved');
    expect(context().outcome).toBe('the condition cleared after escalation');
    expect(context().actions.map((a) => a.action)).toEqual(['start', 'escalate', 'start']);
  });

  it('incident - escalation straight from open', () => {
    const { actor, status } = startIncident();
    actor.send({ type: 'ESCALATE', at: 2_000, reason: 'crash loop' });
    expect(status()).toBe('escalated');
  });

  it('incident - a person may resolve it, with a note', () => {
    const { actor, status, context } = startIncident();
    actor.send({ type: 'ESCALATE', at: 2_000, reason: 'crash loop' });
    actor.send({ type: 'RESOLVE', at: 3_000, by: 'alice', note: 'VM retired' });
    expect(status()).toBe('resolved');
    expect(context()).toMatchObject({ outcome: 'resolved by alice: VM retired', resolvedAt: 3_000 });
  });

  it('incident - a late remediation result after it moved on is still recorded', () => {
    const { actor, status, context } = startIncident();
    actor.send({ type: 'REMEDIATION_STARTED', at: 2_000, action: 'start', requestId: 'r1' });
    actor.send({ type: 'ESCALATE', at: 3_000, reason: 'gave up' });
    actor.send({ type: 'REMEDIATION_RESULT', at: 4_000, ok: true, detail: 'started', requestId: 'r1' });
    expect(status()).toBe('escalated');
    expect(context().actions[0]).toMatchObject({ requestId: 'r1', ok: true });
  });

  it('incident - a restored snapshot keeps its status and history', () => {
    const { actor } = startIncident();
    actor.send({ type: 'REMEDIATION_STARTED', at: 2_000, action: 'start', requestId: 'r1' });
    const persisted = actor.getPersistedSnapshot();
    const restored = createActor(incidentMachine, {
      snapshot: JSON.parse(JSON.stringify(persisted)),
      input: incidentInputFromCondition('i1', stop, 1_000),
    });
    const notices: IncidentNotice[] = [];
    restored.on('*', (e) => notices.push(e));
    restored.start();
    expect(restored.getSnapshot().value).toBe('remediating');
    expect(notices).toEqual([]);
    restored.send({ type: 'CONDITION_CLEARED', at: 3_000 });
    expect(restored.getSnapshot().value).toBe('resolved');
  });
});
