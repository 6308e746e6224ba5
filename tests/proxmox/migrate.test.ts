// Migration through the adapter: QEMU offline and online, an HA guest through the HA manager (hamigrate, then the
// real qmigrate on the source node), a container in restart mode — on the simulator over HTTPS; parameters on the
// wire checked on a fake PVE; bad input refused before anything is sent.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import type { TaskStatus } from '../../adapters/platform/types';
import { createProxmoxPlatform, type ProxmoxPlatform } from '../../adapters/proxmox';
import { type FakePve, startFakePve } from './fake-pve';
import { configFor } from './helpers';
import { type SimPlatform, startSimPlatform } from './sim-platform';
import { createTlsFixture, type TlsFixture } from './tls-fixture';

describe('migrate on the simulator', () => {
  let env: SimPlatform;

  beforeEach(async () => {
    await env?.stop();
    env = await startSimPlatform();
  });
  afterAll(() => env?.stop());

  const guestOf = async (vmid: number) => (await env.inventory()).vms.find((v) => v.vmid === vmid);

  it('migrate - a stopped VM moves offline (qmigrate) and shows on the target', async () => {
    const done = await env.run(env.platform.migrate('pve2', 101, { target: 'pve3' }));
    expect(done).toMatchObject({ type: 'qmigrate', id: '101', node: 'pve2', exitstatus: 'OK' });
    expect(await guestOf(101)).toMatchObject({ node: 'pve3', status: 'stopped' });
  });

  it('migrate - a running VM on local disks moves online only with its disks, and keeps running', async () => {
    // qemu-server: a live migration with attached local disks needs with-local-disks ("migration aborted").
    const without = await env.failure(env.platform.migrate('pve1', 100, { target: 'pve2', online: true }));
    expect(without).toMatchObject({ exitstatus: 'migration aborted' });
    expect((await guestOf(100))?.node).toBe('pve1');
    const done = await env.run(
      env.platform.migrate('pve1', 100, { target: 'pve2', online: true, withLocalDisks: true }),
    );
    expect(done.type).toBe('qmigrate');
    expect(await guestOf(100)).toMatchObject({ node: 'pve2', status: 'running' });
  });

  it('migrate - a running VM without online is refused', async () => {
    const err = await env.failure(env.platform.migrate('pve1', 100, { target: 'pve2' }));
    expect(String(err)).toMatch(/can't migrate running VM without --online/);
    expect((await guestOf(100))?.node).toBe('pve1');
  });

  it('migrate - an HA VM is handed to HA (hamigrate); the move is a second task on the source node', async () => {
    const since = Math.floor(env.clock.now() / 1000) - 1;
    const handoff = await env.run(env.platform.migrate('pve2', 105, { target: 'pve3', online: true }));
    expect(handoff).toMatchObject({ type: 'hamigrate', id: '105', exitstatus: 'OK' });
    // The HA manager starts the real migration in its own time: look for it as the runtime does.
    let move: TaskStatus | undefined;
    for (let i = 0; i < 200 && !move; i++) {
      move = (await env.platform.recentTasks('pve2', 105, since)).find((t) => t.type === 'qmigrate');
      if (!move) await env.clock.advanceAsync(1_000);
    }
    expect(move).toBeDefined();
    await env.settle(env.platform.waitTask(move!, { timeoutMs: 600_000 }));
    expect(await guestOf(105)).toMatchObject({ node: 'pve3', status: 'running', haManaged: true });
  });

  it('migrate - a running container moves in restart mode (vzmigrate) and runs on the target', async () => {
    const done = await env.run(env.platform.migrate('pve1', 200, { target: 'pve2', online: true, type: 'lxc' }));
    expect(done).toMatchObject({ type: 'vzmigrate', id: '200', exitstatus: 'OK' });
    expect(await guestOf(200)).toMatchObject({ type: 'lxc', node: 'pve2', status: 'running' });
  });

  it('migrate - a running container without restart is refused', async () => {
    const err = await env.failure(env.platform.migrate('pve1', 200, { target: 'pve2', type: 'lxc' }));
    expect(String(err)).toMatch(/can't migrate running container without --online or --restart/);
  });
});

describe('migrate on the wire', () => {
  let tls: TlsFixture;
  let fake: FakePve;
  let platform: ProxmoxPlatform;
  const clock = new SimulatedClock(Date.UTC(2024, 4, 1));
  const upid = (type: string, id: number) => `UPID:pve1:0001E240:0ADB2769:66F1A2B3:${type}:${id}:root@pam!overseer:`;

  beforeAll(async () => {
    tls = createTlsFixture();
    fake = await startFakePve(tls, {
      'POST /nodes/{node}/qemu/{vmid}/migrate': { data: upid('qmigrate', 100) },
      'POST /nodes/{node}/lxc/{vmid}/migrate': { data: upid('vzmigrate', 200) },
    });
    platform = createProxmoxPlatform(configFor(fake, tls), { clock, log: createMemoryLog(clock) });
  });
  afterAll(async () => {
    await platform.close();
    await fake.close();
    tls.cleanup();
  });

  it('migrate - QEMU sends target, online and with-local-disks as 1/0', async () => {
    await platform.migrate('pve1', 100, { target: 'pve2', online: true, withLocalDisks: true });
    await platform.migrate('pve1', 100, { target: 'pve3', online: false });
    await platform.migrate('pve1', 100, { target: 'pve3' });
    const sent = fake.calls('POST', '/nodes/pve1/qemu/100/migrate').map((r) => Object.fromEntries(r.form));
    expect(sent).toEqual([
      { target: 'pve2', online: '1', 'with-local-disks': '1' },
      { target: 'pve3', online: '0' },
      { target: 'pve3' },
    ]);
  });

  it('migrate - a container sends restart=1 when it runs, never online', async () => {
    await platform.migrate('pve1', 200, { target: 'pve2', online: true, type: 'lxc' });
    await platform.migrate('pve1', 200, { target: 'pve2', type: 'lxc' });
    const sent = fake.calls('POST', '/nodes/pve1/lxc/200/migrate').map((r) => Object.fromEntries(r.form));
    expect(sent).toEqual([{ target: 'pve2', restart: '1' }, { target: 'pve2' }]);
  });

  it('migrate - to its own node, to a bad name, or with local disks for a container: refused, nothing sent', async () => {
    const before = fake.requests.length;
    await expect(platform.migrate('pve1', 100, { target: 'pve1' })).rejects.toThrow(/already on node pve1/);
    await expect(platform.migrate('pve1', 100, { target: 'pve 2' })).rejects.toBeInstanceOf(RangeError);
    await expect(
      platform.migrate('pve1', 200, { target: 'pve2', withLocalDisks: true, type: 'lxc' }),
    ).rejects.toBeInstanceOf(RangeError);
    expect(fake.requests.length).toBe(before);
  });
});
