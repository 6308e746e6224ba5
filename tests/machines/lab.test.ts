import { describe, expect, it } from 'vitest';
import { flushMicrotasks } from '../../adapters/clock';
import type {
  CloneMemberInput,
  ConfigureMemberInput,
  CreatedItem,
  LabGateInput,
  RemoveCreatedInput,
  SnapshotMembersInput,
} from '../../machines/lab.machine';
import { LabStepError } from '../../machines/lab.machine';
import { alice, bob, FakeSteps, labSpec, startLab, THREE_TIER, vm } from './lab-fakes';

const vmsOf = (created: CreatedItem[]) => created.flatMap((c) => (c.kind === 'vm' ? [`${c.member}:${c.id}`] : []));
const of = (calls: string[], step: string) => calls.filter((c) => c.startsWith(`${step} `));
const thingsRemoved = (steps: FakeSteps, i = 0) => (steps.inputs.remove?.[i] as RemoveCreatedInput).things;
const WEBS = ['web-1', 'web-2', 'web-3'];

describe('lab machine', () => {
  it('lab machine - a three-tier lab is cloned in dependency waves, started in dependency order, and ready', async () => {
    const { state, ctx, steps, actor } = startLab(labSpec());
    await flushMicrotasks();
    expect(state()).toBe('ready');
    expect(steps.calls.slice(0, 3)).toEqual(['plan', 'gate', 'networks']);
    expect(of(steps.calls, 'clone')).toEqual(['clone router', 'clone db', 'clone web-1', 'clone web-2', 'clone web-3']);
    // A wave begins only when the wave before it is cloned.
    const t = steps.timeline;
    expect(t.indexOf('-clone router')).toBeLessThan(t.indexOf('+clone db'));
    for (const web of WEBS) expect(t.indexOf('-clone db')).toBeLessThan(t.indexOf(`+clone ${web}`));
    // Each member starts once what it depends on is ready.
    expect(t.indexOf('-ready router')).toBeLessThan(t.indexOf('+start db'));
    for (const web of WEBS) expect(t.indexOf('-ready db')).toBeLessThan(t.indexOf(`+start ${web}`));
    const lastClone = Math.max(...of(steps.calls, 'clone').map((c) => t.indexOf(`-${c}`)));
    expect(lastClone).toBeLessThan(t.indexOf('+configure router'));
    expect(ctx().created.map((c) => `${c.kind}:${c.id}`)).toEqual([
      'pool:lab-tier3',
      'zone:tier3',
      'vnet:tier3n0',
      'subnet:tier3-10.1.0.0-24',
      'vm:201',
      'vm:202',
      'vm:203',
      'vm:204',
      'vm:205',
    ]);
    expect(Object.values(ctx().members).map((m) => `${m.member.name}:${m.phase}:${m.vmid}`)).toEqual([
      'router:ready:201',
      'db:ready:202',
      'web-1:ready:203',
      'web-2:ready:204',
      'web-3:ready:205',
    ]);
    const clone = steps.inputs.clone?.[0] as CloneMemberInput;
    expect(clone).toMatchObject({ lab: 'tier3', key: 'tier3.rs:0:clone:router', pool: 'lab-tier3' });
    expect(clone.member).toMatchObject({ guestName: 'tier3-router', node: 'pve1', template: { vmid: 9000 } });
    // Step actors that answered are let go.
    expect(Object.keys(actor.getSnapshot().children)).toEqual([]);
  });

  it('lab machine - no more clones run at once than policy.parallelism', async () => {
    const held = new FakeSteps();
    held.holding.add('clone');
    const { state, ctx, steps } = startLab(labSpec({ parallelism: 3 }, [vm('node', { count: 7 })]), { steps: held });
    await flushMicrotasks();
    expect(state()).toBe('cloning');
    expect(ctx().work?.clone.running).toEqual(['node-1', 'node-2', 'node-3']);
    for (let i = 1; i <= 7; i++) {
      steps.release(`clone node-${i}`);
      await flushMicrotasks();
      expect(ctx().work?.clone.running.length ?? 0).toBeLessThanOrEqual(3);
    }
    expect(state()).toBe('ready');
    expect(steps.maxRunning).toBe(3);
    expect(of(steps.calls, 'clone')).toHaveLength(7);
  });

  it('lab machine - a failure at the fourth clone removes exactly what the lab created, newest first', async () => {
    const steps = new FakeSteps();
    // web-2's clone task failed after its VM existed: the lab removes that VM too.
    const created: CreatedItem[] = [{ kind: 'vm', id: 204, node: 'pve1', member: 'web-2' }];
    steps.failures.set('clone web-2', new LabStepError('clone of web-2 failed', { created }));
    const { state, ctx } = startLab(labSpec(), { steps });
    await flushMicrotasks();
    expect(state()).toBe('rolled_back');
    expect(of(steps.calls, 'clone')).toEqual(['clone router', 'clone db', 'clone web-1', 'clone web-2']);
    expect(steps.inputs.remove).toHaveLength(1);
    expect(steps.inputs.remove?.[0]).toMatchObject({ lab: 'tier3', key: 'tier3.rs:0:rollback' });
    // web-1 was running beside web-2 when it failed: the lab waited for it and removes it too.
    expect(thingsRemoved(steps)).toEqual([
      { kind: 'vm', id: 203, node: 'pve1', member: 'web-1' },
      { kind: 'vm', id: 204, node: 'pve1', member: 'web-2' },
      { kind: 'vm', id: 202, node: 'pve1', member: 'db' },
      { kind: 'vm', id: 201, node: 'pve1', member: 'router' },
      { kind: 'subnet', id: 'tier3-10.1.0.0-24', vnet: 'tier3n0' },
      { kind: 'vnet', id: 'tier3n0' },
      { kind: 'zone', id: 'tier3' },
      { kind: 'pool', id: 'lab-tier3' },
    ]);
    expect(ctx().created).toEqual([]);
    expect(ctx().failure).toEqual({ step: 'clone', member: 'web-2', error: 'clone of web-2 failed' });
    expect(Object.values(ctx().members).every((m) => m.phase === 'removed')).toBe(true);
  });

  it('lab machine - policy onFailure keep leaves the lab as it is, and destroy removes it later', async () => {
    const steps = new FakeSteps();
    steps.failures.set('clone web-2', new Error('no space left on storage local-lvm'));
    const { state, ctx, actor } = startLab(labSpec({ onFailure: 'keep' }), { steps });
    await flushMicrotasks();
    expect(state()).toBe('failed');
    expect(steps.inputs.remove).toBeUndefined();
    expect(vmsOf(ctx().created)).toEqual(['router:201', 'db:202', 'web-1:203']);
    expect(ctx().members['web-2']).toMatchObject({ phase: 'failed', error: 'no space left on storage local-lvm' });
    actor.send({ type: 'DESTROY', by: alice, at: 5_000 });
    await flushMicrotasks();
    expect(state()).toBe('destroyed');
    expect(vmsOf(thingsRemoved(steps))).toEqual(['web-1:203', 'db:202', 'router:201']);
    expect(thingsRemoved(steps)).toHaveLength(7);
  });

  it('lab machine - a lab the gate denies creates nothing', async () => {
    const steps = new FakeSteps();
    const reason = 'production rule: pool lab-tier3 is production';
    steps.gate = { decision: 'denied', checks: [{ check: 'production', outcome: 'deny', reason }], reasons: [reason] };
    const { state, ctx } = startLab(labSpec(), { steps });
    await flushMicrotasks();
    expect(state()).toBe('denied');
    expect(steps.calls).toEqual(['plan', 'gate']);
    const gate = steps.inputs.gate?.[0] as LabGateInput;
    expect(gate.plan.items.filter((i) => i.kind === 'member')).toHaveLength(5);
    expect(ctx().reasons).toEqual([reason]);
    expect(ctx().created).toEqual([]);
  });

  it('lab machine - a lab file the cluster cannot take is denied with the path of each issue', async () => {
    const { state, ctx, steps } = startLab(labSpec({}, [vm('router', { template: 'centos-9' })]));
    await flushMicrotasks();
    expect(state()).toBe('denied');
    expect(steps.calls).toEqual(['plan']);
    expect(ctx().reasons).toEqual([expect.stringMatching(/^vms\[0\]\.template: unknown template 'centos-9'/)]);
  });

  it('lab machine - an approval covers the whole lab; the requester cannot approve it, and it expires', async () => {
    const steps = new FakeSteps();
    const reason = 'mass-operation brake: 5 VMs at once';
    const check = { check: 'massOperation', outcome: 'approval' as const, reason };
    steps.gate = { decision: 'awaiting_approval', checks: [check], reasons: [reason] };
    const { state, ctx, actor } = startLab(labSpec(), { steps });
    await flushMicrotasks();
    expect(state()).toBe('awaiting_approval');
    actor.send({ type: 'APPROVE', by: { id: 'alice-laptop', role: 'admin', person: 'alice' }, at: 2_000 });
    expect(state()).toBe('awaiting_approval');
    actor.send({ type: 'APPROVE', by: bob, at: 3_000, reason: 'class at 9' });
    await flushMicrotasks();
    expect(state()).toBe('ready');
    expect(ctx().approvedBy).toEqual({ id: 'bob', at: 3_000, reason: 'class at 9' });
    expect(of(steps.calls, 'clone')).toHaveLength(5);

    const waiting = startLab(labSpec(), { steps: Object.assign(new FakeSteps(), { gate: steps.gate }) });
    await flushMicrotasks();
    waiting.clock.advance(60_000);
    expect(waiting.state()).toBe('expired');
    expect(waiting.steps.calls).toEqual(['plan', 'gate']);
  });

  it('lab machine - drift is repaired through the same steps when policy.drift is repair', async () => {
    const { state, ctx, actor, steps, drift } = startLab(labSpec());
    await flushMicrotasks();
    steps.calls = [];
    const members = [
      { member: 'web-2', state: 'gone' as const },
      { member: 'db', state: 'stopped' as const },
    ];
    actor.send({ type: 'DRIFT', at: 9_000, members });
    await flushMicrotasks();
    expect(state()).toBe('ready');
    expect(steps.calls).toEqual([
      'clone web-2',
      'configure web-2',
      'start db',
      'ready db',
      'start web-2',
      'ready web-2',
    ]);
    expect(drift).toHaveLength(1);
    expect(drift[0]).toMatchObject({ lab: 'tier3', repair: true, at: 9_000 });
    expect(vmsOf(ctx().created)).toEqual(['router:201', 'db:202', 'web-1:203', 'web-3:205', 'web-2:206']);
    expect(ctx().members['web-2']).toMatchObject({ phase: 'ready', vmid: 206 });
    expect(ctx().drift).toEqual([]);
    expect((steps.inputs.clone?.at(-1) as CloneMemberInput).key).toBe('tier3.rs:1:clone:web-2');
  });

  it('lab machine - drift is only reported when policy.drift is report', async () => {
    const { state, ctx, actor, steps, drift } = startLab(labSpec({ drift: 'report' }));
    await flushMicrotasks();
    steps.calls = [];
    actor.send({ type: 'DRIFT', at: 9_000, members: [{ member: 'web-1', state: 'stopped' }] });
    await flushMicrotasks();
    expect(state()).toBe('ready');
    expect(steps.calls).toEqual([]);
    const reported = [{ member: 'web-1', state: 'stopped', at: 9_000, vmid: 203 }];
    expect(drift).toEqual([expect.objectContaining({ repair: false, members: reported })]);
    expect(ctx().members['web-1']?.phase).toBe('stopped');
    // The same drift reported again is not new.
    actor.send({ type: 'DRIFT', at: 9_500, members: [{ member: 'web-1', state: 'stopped' }] });
    expect(drift).toHaveLength(1);
    // Applying the file again starts what is stopped, through the gate.
    actor.send({ type: 'APPLY', spec: labSpec({ drift: 'report' }), by: alice, at: 10_000 });
    await flushMicrotasks();
    expect(steps.calls).toEqual(['plan', 'gate', 'start web-1', 'ready web-1']);
    expect(ctx().members['web-1']?.phase).toBe('ready');
  });

  it('lab machine - a whole-lab snapshot and a revert to it, under one name', async () => {
    const { state, ctx, actor, steps } = startLab(labSpec());
    await flushMicrotasks();
    actor.send({ type: 'SNAPSHOT', name: 'before-class', by: alice, at: 7_000 });
    expect(state()).toBe('snapshotting');
    await flushMicrotasks();
    expect(state()).toBe('ready');
    const all = ['router', 'db', ...WEBS];
    expect(ctx().snapshots).toEqual([{ name: 'before-class', at: 7_000, members: all }]);
    const snapshot = steps.inputs.snapshot?.[0] as SnapshotMembersInput;
    expect(snapshot.name).toBe('before-class');
    expect(snapshot.members[0]).toEqual({ member: 'router', vmid: 201, node: 'pve1' });
    actor.send({ type: 'REVERT', name: 'no-such-snapshot', by: alice, at: 8_000 });
    expect(state()).toBe('ready');
    actor.send({ type: 'REVERT', name: 'before-class', by: alice, at: 8_000 });
    expect(state()).toBe('reverting');
    await flushMicrotasks();
    expect(state()).toBe('ready');
    expect((steps.inputs.revert?.[0] as SnapshotMembersInput).members.map((m) => m.member)).toEqual(all);
  });

  it('lab machine - its time-to-live, counted from ready, tears it down once no step runs', async () => {
    const steps = new FakeSteps();
    const { state, ctx, actor, clock } = startLab(labSpec({ ttl: 3_600_000 }), { steps });
    await flushMicrotasks();
    expect(ctx().expiresAt).toBe(1_000 + 3_600_000);
    clock.advance(3_000_000);
    steps.holding.add('snapshot');
    actor.send({ type: 'SNAPSHOT', name: 'midway', by: alice, at: clock.now() });
    clock.advance(600_000);
    expect(state()).toBe('snapshotting');
    steps.release('snapshot');
    await flushMicrotasks();
    expect(state()).toBe('destroyed');
    expect(thingsRemoved(steps)).toHaveLength(9);
    expect(ctx().created).toEqual([]);
  });

  it('lab machine - a teardown that fails keeps what is left as failed, and the time-to-live does not retry it', async () => {
    const steps = new FakeSteps();
    const { state, ctx, clock } = startLab(labSpec({ ttl: 60_000 }), { steps });
    await flushMicrotasks();
    const removed: CreatedItem[] = [
      { kind: 'vm', id: 205, node: 'pve1', member: 'web-3' },
      { kind: 'vm', id: 204, node: 'pve1', member: 'web-2' },
    ];
    steps.failures.set('remove', new LabStepError('VM 203 is locked (backup)', { removed }));
    clock.advance(60_000);
    await flushMicrotasks();
    expect(state()).toBe('failed');
    expect(steps.inputs.remove).toHaveLength(1);
    expect(vmsOf(ctx().created)).toEqual(['router:201', 'db:202', 'web-1:203']);
    expect(ctx().members['web-2']?.phase).toBe('removed');
    expect(ctx().failure).toEqual({ step: 'remove', error: 'VM 203 is locked (backup)' });
  });

  it('lab machine - restored from a snapshot taken mid-cloning, it resumes and clones no member twice', async () => {
    const steps = new FakeSteps();
    steps.holding.add('clone');
    const first = startLab(labSpec(), { steps });
    await flushMicrotasks();
    for (const m of ['router', 'db', 'web-1']) {
      steps.release(`clone ${m}`);
      await flushMicrotasks();
    }
    expect(first.state()).toBe('cloning');
    expect(first.ctx().work?.clone.running).toEqual(['web-2', 'web-3']);
    const keys = (steps.inputs.clone as CloneMemberInput[]).map((i) => i.key);
    const persisted = JSON.parse(JSON.stringify(first.actor.getPersistedSnapshot()));
    expect(Object.keys(persisted.children)).toEqual(['clone.web-2', 'clone.web-3']);
    first.actor.stop();

    const after = new FakeSteps();
    after.nextVmid = 204;
    const second = startLab(labSpec(), { steps: after, snapshot: persisted });
    await flushMicrotasks();
    expect(second.state()).toBe('ready');
    // Only the two clones in flight are asked again, under the same keys (the request path runs each once).
    expect(of(after.calls, 'clone')).toEqual(['clone web-2', 'clone web-3']);
    expect((after.inputs.clone as CloneMemberInput[]).map((i) => i.key)).toEqual(keys.slice(3));
    expect(after.calls).not.toContain('networks');
    expect(vmsOf(second.ctx().created)).toEqual(['router:201', 'db:202', 'web-1:203', 'web-2:204', 'web-3:205']);
  });

  it('lab machine - applying an edited file does only the difference; applying it again does nothing', async () => {
    const { state, ctx, actor, steps } = startLab(labSpec());
    await flushMicrotasks();
    steps.calls = [];
    const edited = [
      vm('router'),
      vm('db', { dependsOn: ['router'], memory: 2048 }),
      vm('web', { count: 2, dependsOn: ['db'] }),
      vm('cache', { dependsOn: ['db'] }),
    ];
    actor.send({ type: 'APPLY', spec: labSpec({}, edited), by: alice, at: 10_000 });
    await flushMicrotasks();
    expect(state()).toBe('ready');
    expect(steps.calls).toEqual([
      'plan',
      'gate',
      'clone cache',
      'configure cache',
      'configure db',
      'restart db',
      'ready db',
      'start cache',
      'ready cache',
      'remove',
    ]);
    const configure = steps.inputs.configure?.at(-1) as ConfigureMemberInput;
    expect(configure).toMatchObject({ member: { name: 'db' }, vmid: 202 });
    expect(configure.changes?.map((c) => c.field)).toEqual(['memory']);
    expect(steps.inputs.remove?.[0]).toMatchObject({ key: 'tier3.rs:1:remove' });
    expect(thingsRemoved(steps)).toEqual([{ kind: 'vm', id: 205, node: 'pve1', member: 'web-3' }]);
    expect(vmsOf(ctx().created)).toEqual(['router:201', 'db:202', 'web-1:203', 'web-2:204', 'cache:206']);
    expect(ctx().members['web-3']?.phase).toBe('removed');

    steps.calls = [];
    actor.send({ type: 'APPLY', spec: labSpec({}, edited), by: alice, at: 11_000 });
    await flushMicrotasks();
    expect(state()).toBe('ready');
    expect(steps.calls).toEqual(['plan']);
  });

  it('lab machine - an edit that fails removes only what the edit created and keeps the lab as it was', async () => {
    const steps = new FakeSteps();
    const { state, ctx, actor } = startLab(labSpec(), { steps });
    await flushMicrotasks();
    steps.failures.set('start cache', new Error('VM 206 failed to start: not enough memory on pve1'));
    actor.send({
      type: 'APPLY',
      spec: labSpec({}, [...THREE_TIER, vm('cache', { dependsOn: ['db'] })]),
      by: alice,
      at: 10_000,
    });
    await flushMicrotasks();
    expect(state()).toBe('ready');
    expect(thingsRemoved(steps)).toEqual([{ kind: 'vm', id: 206, node: 'pve1', member: 'cache' }]);
    expect(vmsOf(ctx().created)).toEqual(['router:201', 'db:202', 'web-1:203', 'web-2:204', 'web-3:205']);
    expect(ctx().spec.vms).toEqual(THREE_TIER);
    expect(ctx().failure).toMatchObject({ step: 'start', member: 'cache' });
  });
});
