// Recorded PVE answers (see fixtures/README.md) served over HTTPS and read through proxmox-api and the adapter.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { PveApiError, TaskFailedError } from '../../adapters/platform/errors';
import { createProxmoxPlatform, type ProxmoxPlatform } from '../../adapters/proxmox';
import { type FakePve, pveError, startFakePve } from './fake-pve';
import { configFor, fixture } from './helpers';
import { createTlsFixture, type TlsFixture } from './tls-fixture';

const RECORDED_UPID = 'UPID:node1:000FF1FD:10F9374C:630D702C:vzdump:110:root@pam:';

describe('recorded PVE answers', () => {
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
  afterAll(async () => {
    await platform.close();
    await fake.close();
    tls.cleanup();
  });

  it('recorded PVE 8 cluster - inventory maps every guest entry and node', async () => {
    fake.route('GET /cluster/resources', fixture('cluster-resources.pve8.json'));
    fake.route('GET /cluster/status', fixture('cluster-status.pve8.json'));
    const inv = await platform.inventory();
    expect(inv).toMatchObject({
      cluster: 'lab',
      fetchedAt: clock.now(),
      quorate: true,
      complete: true,
      unreachableNodes: [],
    });
    expect(inv.vms.map((v) => v.vmid)).toEqual([100, 101, 102, 200]);
    expect(inv.vms[0]).toEqual({
      cluster: 'lab',
      vmid: 100,
      type: 'qemu',
      name: 'server1',
      node: 'node2',
      status: 'running',
      lock: undefined,
      tags: [],
      template: false,
      haManaged: false,
      cpus: 1,
      maxmem: 1073741824,
      maxdisk: 34359738368,
      mem: 842551296,
      cpu: 0.0249060195469461,
      uptime: 874350,
    });
    const byId = new Map(inv.vms.map((v) => [v.vmid, v]));
    expect(byId.get(101)).toMatchObject({ name: 'leap154', template: true, status: 'stopped', node: 'node1' });
    // PVE's tag format allows '+': this recording carries one tag, not two.
    expect(byId.get(102)?.tags).toEqual(['go-proxmox+cloud-init']);
    expect(byId.get(200)?.name).toBe('VM 200');
    expect(inv.hosts.map((h) => h.node).sort()).toEqual(['node1', 'node2', 'node3', 'node4']);
    expect(inv.hosts.find((h) => h.node === 'node2')).toEqual({
      cluster: 'lab',
      node: 'node2',
      status: 'online',
      cpu: 0.00365387809333998,
      maxcpu: 12,
      mem: 8127873024,
      maxmem: 33567911936,
      disk: 2797338624,
      maxdisk: 940166742016,
    });
  });

  it("recorded degraded cluster - an offline node's VMs are unknown, not gone", async () => {
    fake.route('GET /cluster/resources', fixture('cluster-resources.pve8-degraded.json'));
    fake.route('GET /cluster/status', fixture('cluster-status.pve8-degraded.json'));
    const inv = await platform.inventory();
    expect(inv.complete).toBe(false);
    expect(inv.quorate).toBe(true);
    expect(inv.unreachableNodes).toEqual(['node4']);
    expect(inv.vms.map((v) => v.vmid)).toEqual([100, 101, 1002, 300]);
    // Containers are guests like VMs (PVE 8 lists them as `type: lxc`, id `lxc/<vmid>`).
    expect(inv.vms.find((v) => v.vmid === 300)).toMatchObject({ type: 'lxc', name: 'ct300', status: 'running' });
    expect(inv.vms.find((v) => v.vmid === 1002)).toMatchObject({
      name: 'VM 1002',
      node: 'node4',
      status: 'unknown',
      template: false,
      haManaged: false,
    });
    expect(inv.vms.find((v) => v.vmid === 100)).toMatchObject({
      haManaged: true,
      tags: ['prod', 'web'],
      lock: 'backup',
      status: 'running',
    });
    expect(inv.hosts.find((h) => h.node === 'node4')).toMatchObject({ status: 'offline', maxmem: 0 });
  });

  it('recorded task status - running, OK and failed answers map to TaskStatus', async () => {
    const task = { upid: RECORDED_UPID, node: 'node1' };
    const path = `GET /nodes/node1/tasks/{upid}/status`;
    fake.route(path, fixture('task-status.pve7.running.json'));
    expect(await platform.taskStatus(task)).toEqual({
      upid: RECORDED_UPID,
      node: 'node1',
      type: 'vzdump',
      id: '110',
      user: 'root@pam',
      status: 'running',
      exitstatus: undefined,
      starttime: 1661825068,
      endtime: undefined,
    });
    expect(fake.requests.at(-1)?.path).toBe(`/nodes/node1/tasks/${RECORDED_UPID}/status`);

    fake.route(path, fixture('task-status.pve7.ok.json'));
    await expect(platform.waitTask(task, { timeoutMs: 60_000 })).resolves.toMatchObject({
      status: 'stopped',
      exitstatus: 'OK',
    });

    fake.route(path, fixture('task-status.pve7.failed.json'));
    const err = await platform.waitTask(task, { timeoutMs: 60_000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TaskFailedError);
    expect(err).toMatchObject({ upid: RECORDED_UPID, exitstatus: 'interrupted by signal' });
  });

  it('recorded nextid - the JSON string answer becomes a number', async () => {
    fake.route('GET /cluster/nextid', { data: '100' });
    expect(await platform.nextId()).toBe(100);
  });

  it('recorded error body - a 400 keeps the per-parameter errors in the message', async () => {
    fake.route(
      'POST /nodes/{node}/qemu/{vmid}/clone',
      pveError(400, 'Parameter verification failed.', { newid: 'VM 200 already exists' }),
    );
    const err = await platform
      .clone('node1', 101, 200, { name: 'copy', full: true })
      .catch((e: unknown) => e as PveApiError);
    expect(err).toBeInstanceOf(PveApiError);
    expect(err).toMatchObject({ status: 400, path: '/nodes/node1/qemu/101/clone', nodeUnreachable: false });
    expect((err as Error).message).toContain('Parameter verification failed. (newid: VM 200 already exists)');
  });
});
