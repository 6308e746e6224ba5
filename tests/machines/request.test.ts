import { describe, expect, it } from 'vitest';
import { createActor, fromCallback, fromPromise } from 'xstate';
import { flushMicrotasks, SimulatedClock } from '../../adapters/clock';
import type { CheckResult, GateResult, RequestEvent } from '../../machines';
import { approvalRefusal, requestMachine } from '../../machines';
import type { RecheckResult, RecheckStage } from '../../machines/gate';
import { requestSpec } from './fixtures';

const pass: CheckResult = { check: 'schema', outcome: 'pass', reason: 'well-formed' };

function startRequest(
  gate: GateResult,
  options: { schema?: CheckResult; onExecute?: (send: (e: RequestEvent) => void) => void } = {},
) {
  const clock = new SimulatedClock(1_000);
  const machine = requestMachine.provide({
    actors: {
      validate: fromPromise(async () => options.schema ?? pass),
      gate: fromPromise(async () => gate),
      approvalDeadline: fromCallback<{ type: string }, { at: number }>(({ input, sendBack }) => {
        const h = clock.setTimeout(() => sendBack({ type: 'APPROVAL_EXPIRED' }), input.at - clock.now());
        return () => clock.clearTimeout(h);
      }),
      execute: fromCallback<{ type: 'CANCEL' }, { requestId: string }>(({ sendBack, receive }) => {
        options.onExecute?.(sendBack as (e: RequestEvent) => void);
        receive((e) => {
          if (e.type === 'CANCEL') sendBack({ type: 'EXECUTION_CANCELLED' });
        });
      }),
    },
  });
  const actor = createActor(machine, { clock, input: { spec: requestSpec(), approvalTimeoutMs: 60_000 } }).start();
  return { actor, clock };
}

const approved: GateResult = { decision: 'approved', checks: [pass], reasons: [] };
const needsApproval: GateResult = {
  decision: 'awaiting_approval',
  checks: [{ check: 'production', outcome: 'approval', reason: "needs a second person's approval" }],
  reasons: ["needs a second person's approval"],
};
const bob = { id: 'bob', role: 'admin' as const };

/** A re-check that found nothing changed. */
const passed = (stage: RecheckStage): RecheckResult => ({ stage, checks: [] });

describe('request machine', () => {
  it('request - a malformed request is denied at validation with the schema reason', async () => {
    const bad: CheckResult = { check: 'schema', outcome: 'deny', reason: 'unknown parameter "foo"' };
    const { actor } = startRequest(approved, { schema: bad });
    await flushMicrotasks();
    expect(actor.getSnapshot().value).toBe('denied');
    expect(actor.getSnapshot().context.reasons).toEqual(['unknown parameter "foo"']);
  });

  it('request - an approved request waits in approved until the execution loop queues it', async () => {
    const { actor } = startRequest(approved);
    await flushMicrotasks();
    expect(actor.getSnapshot().value).toBe('approved');
    actor.send({ type: 'QUEUED' });
    expect(actor.getSnapshot().value).toBe('queued');
  });

  it('request - the requester cannot approve their own request; another admin can', async () => {
    const { actor } = startRequest(needsApproval);
    await flushMicrotasks();
    expect(actor.getSnapshot().value).toBe('awaiting_approval');
    const alice = { id: 'alice', role: 'admin' as const };
    expect(approvalRefusal(actor.getSnapshot().context, alice)).toBe('the requester cannot approve their own request');
    actor.send({ type: 'APPROVE', by: alice, at: 2, recheck: passed('approval') });
    expect(actor.getSnapshot().value).toBe('awaiting_approval');
    actor.send({ type: 'APPROVE', by: bob, at: 3, recheck: passed('approval') });
    expect(actor.getSnapshot().value).toBe('approved');
    expect(actor.getSnapshot().context.approvedBy).toEqual({ id: 'bob', at: 3 });
  });

  it('request - another token of the same person cannot approve; the rule compares persons, not names', async () => {
    const { actor } = startRequest(needsApproval);
    await flushMicrotasks();
    const alicesLaptop = { id: 'alice-laptop', role: 'admin' as const, name: 'alice', person: 'alice' };
    expect(approvalRefusal(actor.getSnapshot().context, alicesLaptop)).toMatch(/belongs to the same person/);
    actor.send({ type: 'APPROVE', by: alicesLaptop, at: 2, recheck: passed('approval') });
    expect(actor.getSnapshot().value).toBe('awaiting_approval');
    // A different person who happens to share the display name is another person.
    const otherAlice = { id: 'tok-9', role: 'admin' as const, name: 'alice', person: 'tok-9' };
    expect(approvalRefusal(actor.getSnapshot().context, otherAlice)).toBeUndefined();
  });

  it('request - an observer cannot approve', async () => {
    const { actor } = startRequest(needsApproval);
    await flushMicrotasks();
    const carol = { id: 'carol', role: 'observer' as const };
    expect(approvalRefusal(actor.getSnapshot().context, carol)).toBe(
      'role observer may not approve stop (needs operator)',
    );
    actor.send({ type: 'APPROVE', by: carol, at: 2, recheck: passed('approval') });
    expect(actor.getSnapshot().value).toBe('awaiting_approval');
  });

  it('request - approval has a time limit', async () => {
    const { actor, clock } = startRequest(needsApproval);
    await flushMicrotasks();
    clock.advance(59_999 - 1_000 + 1_000);
    expect(actor.getSnapshot().value).toBe('awaiting_approval');
    clock.advance(1);
    expect(actor.getSnapshot().value).toBe('expired');
  });

  it('request - execution records each task and completes', async () => {
    const { actor } = startRequest(approved, {
      onExecute: (send) => {
        send({ type: 'TASK_ISSUING', step: 0, at: 5 });
        send({ type: 'TASK_STARTED', task: { upid: 'UPID:pve1:1', node: 'pve1', step: 0 } });
      },
    });
    await flushMicrotasks();
    actor.send({ type: 'QUEUED' });
    actor.send({ type: 'EXECUTE', at: 5, recheck: passed('execution') });
    expect(actor.getSnapshot().value).toBe('executing');
    expect(actor.getSnapshot().context.tasks).toEqual([{ upid: 'UPID:pve1:1', node: 'pve1', step: 0 }]);
    expect(actor.getSnapshot().context.issuing).toBeUndefined();
    actor.send({ type: 'EXECUTION_SUCCEEDED' });
    expect(actor.getSnapshot().value).toBe('completed');
  });

  it('request - cancelling while executing stops at the executor safe point', async () => {
    const { actor } = startRequest(approved);
    await flushMicrotasks();
    actor.send({ type: 'QUEUED' });
    actor.send({ type: 'EXECUTE', at: 5, recheck: passed('execution') });
    actor.send({ type: 'CANCEL', by: { id: 'alice', role: 'operator' }, at: 9 });
    expect(actor.getSnapshot().value).toBe('cancelled');
    expect(actor.getSnapshot().context.cancelRequested).toBe(true);
  });

  it('request - a failed execution keeps the error', async () => {
    const { actor } = startRequest(approved);
    await flushMicrotasks();
    actor.send({ type: 'QUEUED' });
    actor.send({ type: 'EXECUTE', at: 5, recheck: passed('execution') });
    actor.send({ type: 'EXECUTION_FAILED', error: 'VM 101 is locked (backup)' });
    expect(actor.getSnapshot().value).toBe('failed');
    expect(actor.getSnapshot().context.error).toBe('VM 101 is locked (backup)');
  });

  it('request - only the requester or an admin may cancel', async () => {
    const { actor } = startRequest(approved);
    await flushMicrotasks();
    actor.send({ type: 'QUEUED' });
    actor.send({ type: 'CANCEL', by: { id: 'mallory', role: 'operator' }, at: 9 });
    expect(actor.getSnapshot().value).toBe('queued');
    actor.send({ type: 'CANCEL', by: bob, at: 10 });
    expect(actor.getSnapshot().value).toBe('cancelled');
  });

  it('request - an approval whose re-check fails ends the request failed, with the reason', async () => {
    const { actor } = startRequest(needsApproval);
    await flushMicrotasks();
    const reason = 'no longer passes the gate when approved: cluster lab has lost quorum: no mutating operation';
    actor.send({ type: 'APPROVE', by: bob, at: 3, recheck: { stage: 'approval', checks: [], reason } });
    expect(actor.getSnapshot().value).toBe('failed');
    expect(actor.getSnapshot().context.error).toBe(reason);
    expect(actor.getSnapshot().context.recheck).toMatchObject({ stage: 'approval', at: 3, reason });
  });

  it('request - a queued request whose re-check before execution fails never executes', async () => {
    const { actor } = startRequest(approved);
    await flushMicrotasks();
    actor.send({ type: 'QUEUED' });
    const reason = 'no longer passes the gate before execution: VM lab/101 is locked by PVE (backup)';
    actor.send({ type: 'EXECUTE', at: 4, recheck: { stage: 'execution', checks: [], reason } });
    expect(actor.getSnapshot().value).toBe('failed');
    expect(actor.getSnapshot().context.error).toBe(reason);
  });

  it('request - a person’s approval is the final decision, kept with who approved and their reason', async () => {
    const { actor } = startRequest(needsApproval);
    await flushMicrotasks();
    expect(actor.getSnapshot().context.decision).toBe('awaiting_approval');
    actor.send({ type: 'APPROVE', by: bob, at: 3, reason: 'backup checked', recheck: passed('approval') });
    expect(actor.getSnapshot().value).toBe('approved');
    expect(actor.getSnapshot().context.decision).toBe('approved');
    expect(actor.getSnapshot().context.approvedBy).toEqual({ id: 'bob', at: 3, reason: 'backup checked' });
  });

  it('request - a denial and a cancellation keep who closed the request and the reason they gave', async () => {
    const denied = startRequest(needsApproval).actor;
    const cancelled = startRequest(needsApproval).actor;
    await flushMicrotasks();
    denied.send({ type: 'DENY', by: bob, at: 4, reason: 'not during the sale' });
    expect(denied.getSnapshot().value).toBe('denied');
    expect(denied.getSnapshot().context).toMatchObject({
      decision: 'denied',
      closedBy: { id: 'bob', at: 4, reason: 'not during the sale' },
    });
    cancelled.send({ type: 'CANCEL', by: bob, at: 5, reason: 'wrong VM' });
    expect(cancelled.getSnapshot().value).toBe('cancelled');
    expect(cancelled.getSnapshot().context.closedBy).toEqual({ id: 'bob', at: 5, reason: 'wrong VM' });
  });

  it('request - nothing to do ends the request at once: no queue, no execution', async () => {
    let executed = false;
    const nothing: GateResult = {
      decision: 'nothing_to_do',
      checks: [pass],
      reasons: ['VM lab/101 is already stopped'],
    };
    const { actor } = startRequest(nothing, {
      onExecute: () => {
        executed = true;
      },
    });
    await flushMicrotasks();
    expect(actor.getSnapshot().value).toBe('nothing_to_do');
    expect(actor.getSnapshot().status).toBe('done');
    expect(actor.getSnapshot().context).toMatchObject({
      decision: 'nothing_to_do',
      reasons: ['VM lab/101 is already stopped'],
    });
    actor.send({ type: 'QUEUED' });
    expect(executed).toBe(false);
  });
});
