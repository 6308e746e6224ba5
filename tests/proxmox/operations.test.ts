// Operations: request shapes, UPID validation, lock-timeout retries, unreachable nodes, timeouts.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import {
  MalformedAnswerError,
  PlatformTimeoutError,
  PlatformUnavailableError,
  PveApiError,
} from '../../adapters/platform/errors';
import type { PowerAction } from '../../adapters/platform/types';
import { createProxmoxPlatform, lockBackoffMs, type ProxmoxPlatform } from '../../adapters/proxmox';
import { bare, type FakePve, pveError, startFakePve } from './fake-pve';
import { configFor, settleWithClock, UPID_CLONE, UPID_START } from './helpers';
import { createTlsFixture, type TlsFixture } from './tls-fixture';

const LOCKED = "can't lock file '/var/lock/qemu-server/lock-101.conf' - got timeout";

describe('operations', () => {
  let tls: TlsFixture;
  let fake: FakePve;
  let platform: ProxmoxPlatform;
  const clock = new SimulatedClock(Date.UTC(2024, 4, 1));
  const log = createMemoryLog(clock);

  beforeAll(async () => {
    tls = createTlsFixture();
    fake = await startFakePve(tls);
    platform = createProxmoxPlatform(configFor(fake, tls), { clock, log });
  });
  afterEach(() => {
    fake.requests.length = 0;
    log.lines.length = 0;
  });
  afterAll(async () => {
    await platform.close();
    await fake.close();
    tls.cleanup();
  });

  it('operations - clone posts newid, name, full and target, and returns the task on its node', async () => {
    fake.route('POST /nodes/{node}/qemu/{vmid}/clone', { data: UPID_CLONE });
    const ref = await platform.clone('pve1', 9000, 120, { name: 'web-04', full: false, target: 'pve2' });
    expect(ref).toEqual({ upid: UPID_CLONE, node: 'pve1' });
    const req = fake.calls('POST', '/nodes/pve1/qemu/9000/clone')[0]!;
    expect(Object.fromEntries(req.form)).toEqual({ newid: '120', name: 'web-04', full: '0', target: 'pve2' });
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('operations - each power action posts to status/{action}', async () => {
    fake.route('POST /nodes/{node}/qemu/{vmid}/status/{action}', { data: UPID_START });
    const actions: PowerAction[] = ['start', 'stop', 'shutdown', 'reboot', 'suspend', 'resume'];
    for (const action of actions) {
      await expect(platform.power('pve1', 101, action)).resolves.toEqual({ upid: UPID_START, node: 'pve1' });
    }
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toEqual(
      actions.map((a) => `POST /nodes/pve1/qemu/101/status/${a}`),
    );
  });

  it('operations - snapshot posts snapname and description', async () => {
    fake.route('POST /nodes/{node}/qemu/{vmid}/snapshot', { data: UPID_START.replace('qmstart', 'qmsnapshot') });
    await platform.snapshot('pve1', 101, 'before_upgrade', 'Grafana 10 -> 11');
    expect(Object.fromEntries(fake.requests[0]!.form)).toEqual({
      snapname: 'before_upgrade',
      description: 'Grafana 10 -> 11',
    });
  });

  it('operations - destroy removes unreferenced disks and purges only when asked', async () => {
    fake.route('DELETE /nodes/{node}/qemu/{vmid}', { data: UPID_START.replace('qmstart', 'qmdestroy') });
    await platform.destroy('pve1', 101);
    await platform.destroy('pve1', 101, { purge: true });
    const [plain, purged] = fake.calls('DELETE', '/nodes/pve1/qemu/101');
    expect(Object.fromEntries(plain!.query)).toEqual({ 'destroy-unreferenced-disks': '1' });
    expect(Object.fromEntries(purged!.query)).toEqual({ purge: '1', 'destroy-unreferenced-disks': '1' });
  });

  it('operations - an answer that is not a UPID is refused', async () => {
    for (const data of [null, 'OK', 'UPID:pve1:xyz:qmstart:101:root@pam:', 42]) {
      fake.route('POST /nodes/{node}/qemu/{vmid}/status/start', { data });
      await expect(platform.power('pve1', 101, 'start')).rejects.toBeInstanceOf(MalformedAnswerError);
    }
  });

  it('operations - a lock timeout answered twice, then OK, is retried with backoff on the clock', async () => {
    let n = 0;
    fake.route('POST /nodes/{node}/qemu/{vmid}/status/start', () =>
      ++n <= 2 ? pveError(500, LOCKED) : { data: UPID_START },
    );
    const started = clock.now();
    const ref = await settleWithClock(platform.power('pve1', 101, 'start'), clock, 50);
    expect(ref.upid).toBe(UPID_START);
    expect(fake.calls('POST', '/nodes/pve1/qemu/101/status/start')).toHaveLength(3);
    expect(clock.now() - started).toBeGreaterThanOrEqual(500 + 1000);
    expect(log.lines.filter((l) => l.includes('locked'))).toHaveLength(2);
  });

  it('operations - a lock that does not go away is thrown after the configured attempts', async () => {
    const p = createProxmoxPlatform(configFor(fake, tls, { lockRetry: { attempts: 3, baseMs: 200 } }), {
      clock,
      log,
    });
    fake.route('POST /nodes/{node}/qemu/{vmid}/status/start', pveError(500, 'VM 101 is locked (backup)'));
    const err = await settleWithClock(p.power('pve1', 101, 'start'), clock, 50).catch((e: unknown) => e);
    await p.close();
    expect(err).toBeInstanceOf(PveApiError);
    expect(err).toMatchObject({ status: 500, lockTimeout: true, nodeUnreachable: false });
    expect(fake.requests).toHaveLength(3);
    expect([1, 2, 3, 4, 5, 6].map((r) => lockBackoffMs(r, 500, 8000))).toEqual([500, 1000, 2000, 4000, 8000, 8000]);
  });

  it('operations - 596 from an offline node is nodeUnreachable and not retried', async () => {
    fake.route('POST /nodes/{node}/qemu/{vmid}/status/start', bare(596, 'Connection timed out'));
    const err = await platform.power('pve2', 101, 'start').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PveApiError);
    expect(err).toMatchObject({ status: 596, nodeUnreachable: true, path: '/nodes/pve2/qemu/101/status/start' });
    expect(fake.requests).toHaveLength(1);
  });

  it('operations - 595 No route to host is nodeUnreachable too', async () => {
    fake.route('GET /nodes/{node}/tasks', bare(595, 'No route to host'));
    const err = await platform.recentTasks('pve2', 101, 0).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 595, nodeUnreachable: true });
    expect((err as Error).message).toContain('595 No route to host');
  });

  it('operations - a write is never sent twice, even when the connection drops', async () => {
    fake.route('POST /nodes/{node}/qemu/{vmid}/clone', { drop: true });
    const err = await platform.clone('pve1', 9000, 121, { name: 'x', full: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformUnavailableError);
    expect(fake.calls('POST', '/nodes/pve1/qemu/9000/clone')).toHaveLength(1);
  });

  it('operations - a call without an answer times out on the clock', async () => {
    fake.route('POST /nodes/{node}/qemu/{vmid}/status/stop', { hang: true });
    const err = await settleWithClock(platform.power('pve1', 101, 'stop'), clock, 1_000).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PlatformTimeoutError);
    expect(fake.requests).toHaveLength(1);
  });

  it('operations - invalid arguments are refused before anything is sent', async () => {
    await expect(platform.power('pve1/../x', 101, 'start')).rejects.toBeInstanceOf(RangeError);
    await expect(platform.power('pve1', 1.5, 'start')).rejects.toBeInstanceOf(RangeError);
    await expect(platform.power('pve1', 101, 'reset' as PowerAction)).rejects.toBeInstanceOf(RangeError);
    await expect(platform.snapshot('pve1', 101, 'no spaces')).rejects.toBeInstanceOf(RangeError);
    await expect(platform.clone('pve1', 9000, 120, { name: 'bad_name!', full: true })).rejects.toBeInstanceOf(
      RangeError,
    );
    await expect(platform.taskStatus({ upid: 'UPID:nope', node: 'pve1' })).rejects.toBeInstanceOf(RangeError);
    expect(fake.requests).toHaveLength(0);
  });

  it('operations - nextId reads /cluster/nextid and rejects nonsense', async () => {
    fake.route('GET /cluster/nextid', { data: '123' });
    expect(await platform.nextId()).toBe(123);
    fake.route('GET /cluster/nextid', { data: 124 });
    expect(await platform.nextId()).toBe(124);
    fake.route('GET /cluster/nextid', { data: 'abc' });
    await expect(platform.nextId()).rejects.toBeInstanceOf(MalformedAnswerError);
  });

  it("operations - recentTasks asks for all of the VM's tasks since a time, and maps them", async () => {
    const finished = 'UPID:pve1:0001E242:0ADB2769:66F1A2C0:qmstart:101:root@pam:';
    const failed = 'UPID:pve1:0001E243:0ADB2769:66F1A2D0:qmstop:101:root@pam:';
    fake.route('GET /nodes/{node}/tasks', {
      data: [
        {
          upid: UPID_START,
          node: 'pve1',
          pid: 123457,
          pstart: 182200169,
          starttime: 1727111860,
          type: 'qmstart',
          id: '101',
          user: 'root@pam!overseer',
        },
        {
          upid: finished,
          node: 'pve1',
          pid: 123458,
          pstart: 182200169,
          starttime: 1727111872,
          endtime: 1727111875,
          type: 'qmstart',
          id: '101',
          user: 'root@pam',
          status: 'OK',
        },
        {
          upid: failed,
          node: 'pve1',
          pid: 123459,
          pstart: 182200169,
          starttime: 1727111888,
          endtime: 1727111890,
          type: 'qmstop',
          id: '101',
          user: 'root@pam',
          status: 'VM 101 not running',
        },
        { upid: 'not-a-upid', starttime: 1 },
        { upid: 'UPID:pve1:0001E244:0ADB2769:66F1A2D0:qmstart:999:root@pam:', starttime: 1727111888, id: '999' },
      ],
      extra: { total: 5 },
    });
    const tasks = await platform.recentTasks('pve1', 101, 1727111800);
    const req = fake.calls('GET', '/nodes/pve1/tasks')[0]!;
    expect(req.query.get('vmid')).toBe('101');
    expect(req.query.get('since')).toBe('1727111800');
    expect(req.query.get('source')).toBe('all');
    expect(tasks.map((t) => [t.type, t.status, t.exitstatus])).toEqual([
      ['qmstart', 'running', undefined],
      ['qmstart', 'stopped', 'OK'],
      ['qmstop', 'stopped', 'VM 101 not running'],
    ]);
    expect(tasks[1]).toMatchObject({ upid: finished, node: 'pve1', id: '101', endtime: 1727111875 });
  });

  it('operations - recentTasks says who issued each task; a token task listed as user and tokenid is user!token', async () => {
    const byToken = 'UPID:pve1:0001E245:0ADB2769:66F1A2E0:qmshutdown:101:overseer@pve!ops:';
    const byUser = 'UPID:pve1:0001E246:0ADB2769:66F1A2F0:qmstop:101:root@pam:';
    const running = 'UPID:pve1:0001E247:0ADB2769:66F1A300:qmstart:101:overseer@pve!ops:';
    const entry = (upid: string, starttime: number, extra: Record<string, unknown>) => ({
      upid,
      node: 'pve1',
      pid: 1,
      pstart: 182200169,
      starttime,
      type: upid.split(':')[5],
      id: '101',
      ...extra,
    });
    fake.route('GET /nodes/{node}/tasks', {
      data: [
        // PVE's active list keeps a running token task's user whole and marks it RUNNING.
        entry(running, 1727111936, { user: 'overseer@pve!ops', status: 'RUNNING' }),
        // Its task index names a finished token task by user and tokenid apart.
        entry(byToken, 1727111904, { user: 'overseer@pve', tokenid: 'ops', endtime: 1727111906, status: 'OK' }),
        entry(byUser, 1727111920, { user: 'root@pam', endtime: 1727111921, status: 'OK' }),
        // A list without the user field: the UPID names who issued it.
        { upid: byUser.replace('0001E246', '0001E248'), starttime: 1727111920, endtime: 1727111921, status: 'OK' },
      ],
    });
    const tasks = await platform.recentTasks('pve1', 101, 1727111800);
    expect(tasks.map((t) => [t.type, t.status, t.user])).toEqual([
      ['qmstart', 'running', 'overseer@pve!ops'],
      ['qmshutdown', 'stopped', 'overseer@pve!ops'],
      ['qmstop', 'stopped', 'root@pam'],
      ['qmstop', 'stopped', 'root@pam'],
    ]);
  });
});
