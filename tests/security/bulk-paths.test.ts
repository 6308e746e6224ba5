// The new paths of issue 11 tried from the outside: nobody can make a request a bulk member (covered by another
// request's decision) by claiming it, a selector does not dilute the production rule or the mass brake, a dry run
// leaves nothing behind that could run, and the node actions need their role.
import { afterEach, describe, expect, it } from 'vitest';
import type { Submission } from '../../actors/overseer';
import { SubmitPayloadSchema } from '../../protocol';
import { createSimStack, type SimStack } from '../helpers/sim-stack';

let stack: SimStack | undefined;
afterEach(async () => {
  await stack?.cleanup();
  stack = undefined;
});

const operator = { id: 'olga', role: 'operator' as const };
const observer = { id: 'otto', role: 'observer' as const };

async function started(): Promise<SimStack> {
  stack = await createSimStack();
  stack.overseer.start();
  await stack.settle();
  return stack;
}

describe('security - bulk paths', () => {
  it('security - the wire contract refuses a submission that claims a parent', () => {
    const claim = {
      action: 'destroy',
      target: { cluster: 'lab', vmid: 114 },
      params: {},
      force: true,
      parent: 'r1',
    };
    expect(SubmitPayloadSchema.safeParse(claim).success).toBe(false);
    const nested = { ...claim, parent: undefined, target: { cluster: 'lab', vmid: 114, parent: 'r1' } };
    expect(SubmitPayloadSchema.safeParse(nested).success).toBe(false);
  });

  it('security - a parent slipped into a submission is not believed: the request meets the whole gate', async () => {
    const { overseer, store } = await started();
    const claim = {
      action: 'destroy',
      target: { cluster: 'lab', vmid: 114 },
      params: {},
      force: false,
      requester: operator,
      parent: 'some-approved-request',
    } as Submission;
    const answer = await overseer.submit(claim);
    expect(answer.decision).toBe('denied');
    expect(answer.checks.map((c) => c.check)).toContain('production');
    expect(store.requests.get(answer.requestId)?.parent).toBeUndefined();
  });

  it('security - a selector sees every member: production guests in it need force, and the brake counts them all', async () => {
    const { overseer, sim } = await started();
    const stop = (selector: string, force = false) =>
      overseer.submit({ action: 'stop', target: { cluster: 'lab', selector }, params: {}, force, requester: operator });
    const production = await stop('@tag:web');
    expect(production.decision).toBe('denied');
    expect(production.reasons.join(' ')).toMatch(/114|115|300/);
    const everything = await stop('@all', true);
    expect(everything.decision).not.toBe('approved');
    expect(everything.reasons.join(' ')).toMatch(/mass-operation brake/);
    await stack?.advance(20_000);
    expect(sim.oplog.filter((e) => e.op === 'stop')).toEqual([]);
  });

  it('security - drain and undrain need an operator; an observer is refused by the gate', async () => {
    const { overseer } = await started();
    for (const action of ['drain', 'undrain'] as const) {
      const answer = await overseer.submit({
        action,
        target: { cluster: 'lab', node: 'pve3' },
        params: {},
        force: false,
        requester: observer,
      });
      expect(answer.decision).toBe('denied');
      expect(answer.checks.find((c) => c.check === 'authorization')?.outcome).toBe('deny');
    }
  });
});
