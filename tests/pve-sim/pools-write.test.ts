// Resource pools on the simulator, over HTTPS through the real proxmox-api client: creating one, adding and removing
// guests (PUT /pools?poolid= of PVE 8.1+ and the older /pools/{poolid}), deleting it only when empty, cloning into
// it, and /cluster/resources naming each member's pool; PVE's texts for what it refuses.
import { type ProxmoxEngineOptions, proxmoxApi } from 'proxmox-api';
import { fetch } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { restoreState, saveState } from '../../adapters/pve-sim';
import { startTestSim, type TestSim, TOKEN } from './helpers';

type ClientFetch = NonNullable<ProxmoxEngineOptions['fetch']>;

describe('pve-sim pools', () => {
  let t: TestSim;
  beforeEach(async () => {
    t = await startTestSim();
  });
  afterEach(() => t.close());

  const client = () =>
    proxmoxApi({
      host: '127.0.0.1',
      port: t.sim.port,
      tokenID: TOKEN.tokenid,
      tokenSecret: TOKEN.secret,
      fetch: ((url: string | URL, init?: object) => fetch(url, { ...init, dispatcher: t.agent })) as ClientFetch,
    });
  const pools = () => client().pools;
  const refused = async (method: string, path: string, form?: Record<string, string | number>) => {
    const r = await t.api(method, path, form ? { form } : {});
    return { status: r.status, text: r.statusText };
  };
  const poolOf = async (vmid: number) =>
    (await client().cluster.resources.$get({ type: 'vm' })).find((r) => r.vmid === vmid)?.pool;

  it('pools - a new pool is listed with its comment; guests join and leave it; resources name it', async () => {
    await pools().$post({ poolid: 'range1', comment: 'red team lab' });
    expect(await pools().$get()).toEqual([{ poolid: 'lab1' }, { poolid: 'range1', comment: 'red team lab' }]);
    expect(await pools().$get({ poolid: 'range1' })).toEqual([
      { poolid: 'range1', comment: 'red team lab', members: [] },
    ]);

    await pools().$put({ poolid: 'range1', vms: '102,104' });
    expect(await poolOf(102)).toBe('range1');
    const [pool] = await pools().$get({ poolid: 'range1' });
    expect(pool?.members?.map((m) => m.vmid)).toEqual([102, 104]);
    const all = await client().cluster.resources.$get();
    expect(all.find((r) => r.id === '/pool/range1')).toMatchObject({ type: 'pool', pool: 'range1' });

    await pools().$put({ poolid: 'range1', vms: '104', delete: true });
    expect(await poolOf(104)).toBeUndefined();
    expect(t.sim.oplog.filter((e) => e.result === 'OK').map((e) => `${e.op} ${e.id}`)).toEqual([
      'pool-create range1',
      'pool-update range1',
      'pool-update range1',
    ]);
  });

  it('pools - membership conflicts and missing pools answer as Pool.pm words them', async () => {
    await pools().$post({ poolid: 'range1' });
    expect(await refused('POST', '/pools', { poolid: 'range1' })).toEqual({
      status: 500,
      text: "create pool failed: pool 'range1' already exists",
    });
    expect(await refused('POST', '/pools', { poolid: '1st' })).toEqual({
      status: 500,
      text: 'create pool failed: pool name must start with a letter',
    });
    expect(await refused('POST', '/pools', { poolid: 'nope/child' })).toEqual({
      status: 500,
      text: "create pool failed: parent 'nope' of pool 'nope/child' does not exist",
    });
    expect(await refused('PUT', '/pools', { poolid: 'range1', vms: 106 })).toEqual({
      status: 500,
      text: "update pools failed: VM 106 belongs already to pool 'lab1' and 'allow-move' is not set",
    });
    await pools().$put({ poolid: 'range1', vms: '106', 'allow-move': true });
    expect(await poolOf(106)).toBe('range1');
    expect(await refused('PUT', '/pools', { poolid: 'range1', vms: 106 })).toEqual({
      status: 500,
      text: 'update pools failed: VM 106 is already a pool member',
    });
    expect(await refused('PUT', '/pools', { poolid: 'range1', vms: 100, delete: 1 })).toEqual({
      status: 500,
      text: 'update pools failed: VM 100 is not a pool member',
    });
    expect(await refused('PUT', '/pools', { poolid: 'ghost', vms: 100 })).toEqual({
      status: 500,
      text: "update pools failed: pool 'ghost' does not exist",
    });
  });

  it('pools - a pool with members cannot be deleted; an empty one can, also by the old path', async () => {
    await pools().$post({ poolid: 'range1' });
    await pools().$put({ poolid: 'range1', vms: '102' });
    expect(await refused('DELETE', '/pools?poolid=range1')).toEqual({
      status: 500,
      text: "delete pool failed: pool 'range1' is not empty (contains VM 102)",
    });
    await pools().$(`range1`).$put({ vms: '102', delete: true });
    await pools().$delete({ poolid: 'range1' });
    expect((await pools().$get()).map((p) => p.poolid)).toEqual(['lab1']);
    await pools().$post({ poolid: 'range2' });
    await pools().$('range2').$delete();
    expect(await refused('DELETE', '/pools/range2')).toEqual({
      status: 500,
      text: "delete pool failed: pool 'range2' does not exist",
    });
  });

  it('pools - a clone joins the pool it names; a pool that does not exist is refused', async () => {
    await pools().$post({ poolid: 'range1' });
    const upid = await client()
      .nodes.$('pve1')
      .qemu.$(9000)
      .clone.$post({ newid: 130, name: 'kali-03', pool: 'range1' });
    await t.clock.advanceAsync(t.sim.taskDuration('qmclone'));
    expect(await t.taskStatus(upid)).toMatchObject({ exitstatus: 'OK' });
    expect(await poolOf(130)).toBe('range1');
    expect(await refused('POST', '/nodes/pve1/qemu/9000/clone', { newid: 131, pool: 'nope' })).toEqual({
      status: 403,
      text: "Permission check failed (pool 'nope' does not exist)",
    });
    // a destroyed guest leaves its pool, which can then be deleted
    await client().nodes.$('pve1').qemu.$(130).$delete();
    await t.clock.advanceAsync(t.sim.taskDuration('qmdestroy'));
    await pools().$delete({ poolid: 'range1' });
  });

  it('pools - an empty pool and its comment survive a restart of the simulator', async () => {
    await pools().$post({ poolid: 'range1', comment: 'kept' });
    const restored = restoreState(JSON.parse(JSON.stringify(saveState(t.sim.state, t.clock.now()))));
    expect(restored.pools.get('range1')).toEqual({ comment: 'kept', storage: [], vmids: [] });
    expect([...restored.pools.keys()].sort()).toEqual(['lab1', 'range1']);
  });
});
