// What a lab's decision covers (actors/lab-children.ts labCoverage) and the gate's parent check on a lab's requests:
// a clone the lab is running passes with exactly its parameters; anything else — other parameters, a lab at rest,
// a guest the lab does not name — is denied, so a request cannot borrow a lab's decision.
import { describe, expect, it } from 'vitest';
import { cloneParams, labCoverage } from '../../actors/lab-children';
import { flushMicrotasks } from '../../adapters/clock';
import { parentCheck } from '../../machines/gate';
import type { GateInput } from '../../machines/gate/types';
import type { BulkMember, RequestSpec } from '../../machines/types';
import { FakeSteps, labSpec, startLab } from '../machines/lab-fakes';

const PARENT = 'lab:lab/tier3';

function deployOf(params: Record<string, unknown>, parent = PARENT): RequestSpec {
  return {
    id: 'child',
    action: 'deploy',
    target: { cluster: 'lab' },
    params,
    force: false,
    requester: { id: 'alice', role: 'operator' },
    submittedAt: 0,
    parent,
  };
}

const check = (request: RequestSpec, parentMembers: readonly BulkMember[] | undefined) =>
  parentCheck.run({ request, parentMembers } as unknown as GateInput);

async function cloningLab() {
  const steps = new FakeSteps();
  steps.holding.add('clone');
  const lab = startLab(labSpec(), { steps });
  await flushMicrotasks();
  expect(lab.state()).toBe('cloning');
  return lab;
}

describe('lab coverage', () => {
  it('lab coverage - a cloning lab covers exactly the clones it runs, with their parameters', async () => {
    const lab = await cloningLab();
    const covered = labCoverage('cloning', lab.ctx());
    const router = lab.ctx().members.router?.member;
    expect(covered).toEqual([{ vmid: 0, action: 'deploy', params: cloneParams(router as never, 'lab-tier3') }]);
    expect(check(deployOf(cloneParams(router as never, 'lab-tier3')), covered).outcome).toBe('pass');
  });

  it('lab coverage - a clone with other parameters (another node, another pool) is denied', async () => {
    const lab = await cloningLab();
    const covered = labCoverage('cloning', lab.ctx());
    const router = lab.ctx().members.router?.member;
    const params = { ...cloneParams(router as never, 'lab-tier3'), node: 'pve9' };
    const verdict = check(deployOf(params), covered);
    expect(verdict.outcome).toBe('deny');
    expect(verdict.reason).toContain('lab lab/tier3 lists deploy of a new guest in lab with other parameters');
  });

  it('lab coverage - a lab at rest covers nothing: a request naming it as parent is denied', async () => {
    const lab = await cloningLab();
    const router = lab.ctx().members.router?.member;
    const verdict = check(deployOf(cloneParams(router as never, 'lab-tier3')), labCoverage('ready', lab.ctx()));
    expect(verdict).toMatchObject({ outcome: 'deny', reason: 'lab lab/tier3 lists no member for a new guest in lab' });
  });

  it('lab coverage - an unknown lab (no members read) denies, and a destroy of a guest the lab does not list too', () => {
    const destroy: RequestSpec = { ...deployOf({}), action: 'destroy', target: { cluster: 'lab', vmid: 105 } };
    expect(check(destroy, undefined).reason).toContain('were not read');
    expect(check(destroy, [{ vmid: 201, action: 'destroy', params: {} }]).outcome).toBe('deny');
  });

  it('lab coverage - a teardown covers the destroy of every guest the lab made, and nothing else', async () => {
    const lab = await cloningLab();
    const ctx = {
      ...lab.ctx(),
      created: [
        { kind: 'pool' as const, id: 'lab-tier3', generation: 0 },
        { kind: 'vm' as const, id: 201, node: 'pve1', member: 'router', generation: 0 },
      ],
    };
    expect(labCoverage('tearing_down', ctx)).toEqual([{ vmid: 201, action: 'destroy', params: {} }]);
  });
});
