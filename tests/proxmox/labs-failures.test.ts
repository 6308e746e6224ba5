// Lab platform edges through the adapter: the linked-clone refusal by name for both guest types, a PVE before 8.1
// (no PUT/DELETE /pools?poolid=) reached through the older /pools/{poolid}, and a guest's changed config kept across
// a simulator restart.
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { classifyPveFailure, TaskFailedError } from '../../adapters/platform/errors';
import { restoreState, saveState } from '../../adapters/pve-sim';
import { type SimPlatform, startSimPlatform } from './sim-platform';

const task = (exitstatus: string) =>
  new TaskFailedError(`lab: task failed: ${exitstatus}`, 'lab', 'UPID:pve1:1:2:3:vzdestroy:9100:root@pam:', exitstatus);

describe('labs - PVE texts by name', () => {
  it('failures - a template linked clones use: has_linked_clones with its volume, VM and container', () => {
    expect(
      classifyPveFailure(task("base volume 'local-zfs:base-9000-disk-0' is still in use by linked cloned")),
    ).toEqual({
      source: 'task',
      message: "base volume 'local-zfs:base-9000-disk-0' is still in use by linked cloned",
      kind: 'has_linked_clones',
      volume: 'local-zfs:base-9000-disk-0',
    });
    expect(
      classifyPveFailure(task("base volume 'basevol-9100-disk-0' is still in use by linked clones")),
    ).toMatchObject({
      kind: 'has_linked_clones',
      volume: 'basevol-9100-disk-0',
    });
  });
});

describe('labs - adapter edges on the simulator', () => {
  let env: SimPlatform;
  beforeEach(async () => {
    await env?.stop();
    env = await startSimPlatform();
  });
  afterAll(() => env?.stop());

  it('pools - a PVE without PUT/DELETE /pools (before 8.1) is changed through /pools/{poolid}', async () => {
    for (const method of ['PUT', 'DELETE']) {
      env.sim.faults.httpError({
        path: '^/pools$',
        method,
        status: 501,
        message: `Method '${method} /pools' not implemented`,
      });
    }
    await env.settle(env.platform.createPool('range1'));
    await env.settle(env.platform.addPoolMembers('range1', [101]));
    expect(env.sim.state.vms.get(101)?.pool).toBe('range1');
    await env.settle(env.platform.removePoolMembers('range1', [101]));
    await env.settle(env.platform.deletePool('range1'));
    expect(env.sim.state.pools.has('range1')).toBe(false);
  });

  it('destroy - a container template is refused while its linked clone lives, and goes after it', async () => {
    await env.run(env.platform.clone('pve1', 9100, 330, { name: 'ct-linked', full: false, type: 'lxc' }));
    const refused = await env.failure(env.platform.destroy('pve1', 9100, { type: 'lxc' }));
    expect(classifyPveFailure(refused)).toMatchObject({ kind: 'has_linked_clones', volume: 'basevol-9100-disk-0' });
    await env.run(env.platform.destroy('pve1', 330, { type: 'lxc' }));
    await env.run(env.platform.destroy('pve1', 9100, { type: 'lxc' }));
    expect(env.sim.state.vms.has(9100)).toBe(false);
  });

  it('configure - pending changes of a running VM and its options survive a simulator restart', async () => {
    await env.run(
      Promise.resolve((await env.settle(env.platform.configureGuest('pve1', 100, { cores: 8, ciuser: 'ops' })))!),
    );
    const vm = env.sim.state.vms.get(100)!;
    expect(vm.pending).toEqual({ cores: '8' });
    const restored = restoreState(JSON.parse(JSON.stringify(saveState(env.sim.state, env.clock.now())))).vms.get(100);
    expect(restored).toMatchObject({ pending: { cores: '8' }, options: expect.objectContaining({ ciuser: 'ops' }) });
  });
});
