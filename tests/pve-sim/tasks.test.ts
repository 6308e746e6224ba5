import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeUpid, encodeUpid } from '../../adapters/pve-sim';
import { START, startTestSim, type TestSim, USER } from './helpers';

describe('pve-sim upid', () => {
  it('upid - encodes in PVE format and decodes back', () => {
    const upid = encodeUpid({
      node: 'pve1',
      pid: 0x2a000,
      pstart: 0x735b400,
      starttime: 0x67748580,
      type: 'qmstart',
      id: '101',
      user: 'root@pam!overseer',
    });
    expect(upid).toBe('UPID:pve1:0002A000:0735B400:67748580:qmstart:101:root@pam!overseer:');
    expect(decodeUpid(upid)).toMatchObject({ node: 'pve1', pid: 0x2a000, type: 'qmstart', id: '101' });
    expect(decodeUpid('UPID:pve1:nothex:x')).toBeUndefined();
  });
});

describe('pve-sim tasks', () => {
  let t: TestSim;
  beforeEach(async () => {
    t = await startTestSim({ taskDurations: { qmstart: 5_000 } });
  });
  afterEach(() => t.close());

  it('tasks - a task stays running until the simulated clock has advanced its duration', async () => {
    const upid = await t.op('POST', '/nodes/pve3/qemu/102/status/start');
    const parts = decodeUpid(upid)!;
    expect(parts.starttime).toBe(Math.floor(START / 1000));
    expect(t.sim.taskDuration('qmstart')).toBe(5_000);
    for (let i = 0; i < 4; i++) {
      await t.clock.advanceAsync(1_000);
      expect((await t.taskStatus(upid)).status).toBe('running');
    }
    await t.clock.advanceAsync(1_000);
    const st = await t.get<Record<string, unknown>>(`/nodes/pve3/tasks/${upid}/status`);
    expect(st).toEqual({
      upid,
      node: 'pve3',
      pid: parts.pid,
      pstart: parts.pstart,
      starttime: parts.starttime,
      type: 'qmstart',
      id: '102',
      // PVE names an API token's task by user and tokenid apart (PVE::API2::Tasks, convert_token_task).
      user: 'root@pam',
      tokenid: 'overseer',
      status: 'stopped',
      exitstatus: 'OK',
    });
  });

  it('tasks - the node task list is newest first; archive (default) has finished tasks, source=all also running ones', async () => {
    const a = await t.op('POST', '/nodes/pve3/qemu/102/status/start');
    await t.clock.advanceAsync(5_000);
    const b = await t.op('POST', '/nodes/pve3/qemu/107/status/start');
    const archive = await t.api<Array<{ upid: string; status?: string; endtime?: number }>>('GET', '/nodes/pve3/tasks');
    expect(archive.body?.data.map((x) => x.upid)).toEqual([a]);
    expect(archive.body?.data[0]).toMatchObject({ status: 'OK', endtime: Math.floor(START / 1000) + 5 });
    expect(archive.body?.total).toBe(1);
    const all = await t.get<Array<{ upid: string; status?: string }>>('/nodes/pve3/tasks?source=all');
    expect(all.map((x) => x.upid)).toEqual([b, a]);
    // PVE's node_tasks marks an active task that has no status yet as RUNNING.
    expect(all[0]?.status).toBe('RUNNING');
    const byVm = await t.get<Array<{ upid: string }>>('/nodes/pve3/tasks?source=all&vmid=107&typefilter=qmstart');
    expect(byVm.map((x) => x.upid)).toEqual([b]);
    const since = await t.get<unknown[]>(`/nodes/pve3/tasks?source=all&since=${Math.floor(START / 1000) + 1}`);
    expect(since).toHaveLength(1);
    expect(await t.get('/nodes/pve3/tasks?source=active')).toHaveLength(1);
    expect(await t.get('/nodes/pve3/tasks?errors=1')).toEqual([]);
  });

  it('tasks - each task names who issued it: a web UI user, or an API token (user and tokenid apart once finished)', async () => {
    const login = await t.api<{ ticket: string; CSRFPreventionToken: string }>('POST', '/access/ticket', {
      auth: false,
      form: { username: USER.userid, password: USER.password },
    });
    const { ticket, CSRFPreventionToken } = login.body!.data;
    const byUser = await t.api<string>('POST', '/nodes/pve1/qemu/100/status/stop', {
      auth: false,
      headers: { Cookie: `PVEAuthCookie=${encodeURIComponent(ticket)}`, CSRFPreventionToken },
    });
    expect(decodeUpid(byUser.body!.data)?.user).toBe('root@pam');
    const byToken = await t.op('POST', '/nodes/pve1/qemu/103/status/shutdown');
    expect(decodeUpid(byToken)?.user).toBe('root@pam!overseer');

    // Running: the active list keeps the token's user whole.
    const active = await t.get<Array<Record<string, unknown>>>('/nodes/pve1/tasks?source=active');
    expect(active.map((x) => [x.type, x.user, x.tokenid])).toEqual([
      ['qmshutdown', 'root@pam!overseer', undefined],
      ['qmstop', 'root@pam', undefined],
    ]);
    await t.clock.advanceAsync(10_000);
    // Finished: the task index names user and tokenid apart, in the node list, the status and the cluster list.
    const finished = await t.get<Array<Record<string, unknown>>>('/nodes/pve1/tasks?vmid=103');
    expect(finished[0]).toMatchObject({ upid: byToken, user: 'root@pam', tokenid: 'overseer', status: 'OK' });
    expect(await t.taskStatus(byToken)).toMatchObject({ user: 'root@pam', tokenid: 'overseer' });
    const cluster = await t.get<Array<Record<string, unknown>>>('/cluster/tasks');
    expect(cluster.map((x) => [x.upid, x.user, x.tokenid])).toEqual([
      [byToken, 'root@pam', 'overseer'],
      [byUser.body!.data, 'root@pam', undefined],
    ]);
  });

  it('tasks - an unknown UPID answers 400 "no such task", a malformed one "unable to parse worker upid"', async () => {
    const unknown = await t.api(
      'GET',
      '/nodes/pve1/tasks/UPID:pve1:00001234:00001234:00001234:qmstart:100:root@pam:/status',
    );
    expect(unknown.status).toBe(400);
    expect(unknown.body?.errors).toEqual({ upid: 'no such task' });
    const bad = await t.api('GET', '/nodes/pve1/tasks/garbage/status');
    expect(bad.body?.errors).toEqual({ upid: 'unable to parse worker upid' });
  });

  it('tasks - a task is found only on its own node', async () => {
    const upid = await t.op('POST', '/nodes/pve3/qemu/102/status/start');
    const r = await t.api('GET', `/nodes/pve1/tasks/${upid}/status`);
    expect(r.status).toBe(400);
  });

  it('tasks - waiting for every task with idle() while the clock advances', async () => {
    await t.op('POST', '/nodes/pve3/qemu/102/status/start');
    await t.op('POST', '/nodes/pve3/qemu/107/status/start');
    const idle = t.sim.idle();
    await t.clock.advanceAsync(5_000);
    await idle;
    expect(t.sim.state.vms.get(102)?.status).toBe('running');
    expect(t.sim.state.vms.get(107)?.status).toBe('running');
  });
});
