// Snapshots in full through the adapter: take, list, roll back, delete, for VMs and containers, on the simulator
// over HTTPS; snapshot names checked as PVE checks them (pve-configid, at most 40) before anything is sent.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { classifyPveFailure } from '../../adapters/platform/errors';
import { createProxmoxPlatform, type ProxmoxPlatform } from '../../adapters/proxmox';
import { type FakePve, startFakePve } from './fake-pve';
import { configFor } from './helpers';
import { type SimPlatform, startSimPlatform } from './sim-platform';
import { createTlsFixture, type TlsFixture } from './tls-fixture';

describe('snapshot operations on the simulator', () => {
  let env: SimPlatform;

  beforeEach(async () => {
    await env?.stop();
    env = await startSimPlatform();
  });
  afterAll(() => env?.stop());

  const names = async (node: string, vmid: number, type?: 'lxc') =>
    (await env.platform.listSnapshots(node, vmid, type)).map((s) => s.name);

  it('snapshot ops - a VM snapshot named with a dash is taken, listed, rolled back and deleted', async () => {
    const taken = await env.run(env.platform.snapshot('pve2', 101, 'pre-upgrade', 'before the upgrade'));
    expect(taken).toMatchObject({ type: 'qmsnapshot', exitstatus: 'OK' });
    const list = await env.platform.listSnapshots('pve2', 101);
    expect(list.map((s) => s.name)).toEqual(expect.arrayContaining(['before_upgrade', 'pre-upgrade']));
    expect(list.find((s) => s.name === 'pre-upgrade')).toMatchObject({ description: 'before the upgrade' });
    expect(list.some((s) => s.name === 'current')).toBe(false);

    // On ZFS only the newest snapshot can be rolled back to (pve-storage ZFSPoolPlugin volume_rollback_is_possible).
    const older = await env.failure(env.platform.rollback('pve2', 101, 'before_upgrade'));
    expect(String(older)).toMatch(/can't rollback, 'before_upgrade' is not most recent snapshot/);
    const rolled = await env.run(env.platform.rollback('pve2', 101, 'pre-upgrade'));
    expect(rolled).toMatchObject({ type: 'qmrollback', id: '101', exitstatus: 'OK' });

    const deleted = await env.run(env.platform.deleteSnapshot('pve2', 101, 'pre-upgrade'));
    expect(deleted).toMatchObject({ type: 'qmdelsnapshot', id: '101', exitstatus: 'OK' });
    expect(await names('pve2', 101)).toEqual(['before_upgrade']);
  });

  it('snapshot ops - a container snapshot is taken, rolled back and deleted on /lxc', async () => {
    expect(await names('pve1', 203, 'lxc')).toEqual(['pre-upgrade']);
    expect((await env.run(env.platform.snapshot('pve1', 203, 'nightly_1', undefined, 'lxc'))).type).toBe('vzsnapshot');
    expect((await env.run(env.platform.rollback('pve1', 203, 'nightly_1', 'lxc'))).type).toBe('vzrollback');
    expect((await env.run(env.platform.deleteSnapshot('pve1', 203, 'nightly_1', 'lxc'))).type).toBe('vzdelsnapshot');
    expect(await names('pve1', 203, 'lxc')).toEqual(['pre-upgrade']);
  });

  it('snapshot ops - a 40-character name is taken; rollback to an unknown snapshot is missing', async () => {
    const forty = `S${'n'.repeat(39)}`;
    await env.run(env.platform.snapshot('pve2', 101, forty));
    expect(await names('pve2', 101)).toContain(forty);
    const err = await env.failure(env.platform.rollback('pve2', 101, 'no-such-snap'));
    expect(classifyPveFailure(err)).toMatchObject({ kind: 'missing', what: 'snapshot', name: 'no-such-snap' });
    const del = await env.failure(env.platform.deleteSnapshot('pve1', 203, 'no-such-snap', 'lxc'));
    expect(classifyPveFailure(del)).toMatchObject({ kind: 'missing', what: 'snapshot' });
  });

  it('snapshot ops - a snapshot of a VM under a backup lock is refused as locked (backup)', async () => {
    env.sim.faults.lockVm(101, 'backup');
    const err = await env.failure(env.platform.snapshot('pve2', 101, 'during-backup'));
    env.sim.faults.lockVm(101, null);
    expect(classifyPveFailure(err)).toMatchObject({ kind: 'locked', lock: 'backup' });
  });
});

describe('snapshot names', () => {
  let tls: TlsFixture;
  let fake: FakePve;
  let platform: ProxmoxPlatform;
  const clock = new SimulatedClock(Date.UTC(2024, 4, 1));
  const upid = (type: string) => `UPID:pve1:0001E240:0ADB2769:66F1A2B3:${type}:101:root@pam!overseer:`;

  beforeAll(async () => {
    tls = createTlsFixture();
    fake = await startFakePve(tls, {
      'POST /nodes/{node}/qemu/{vmid}/snapshot': { data: upid('qmsnapshot') },
      'POST /nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback': { data: upid('qmrollback') },
      'DELETE /nodes/{node}/qemu/{vmid}/snapshot/{snapname}': { data: upid('qmdelsnapshot') },
      'POST /nodes/{node}/lxc/{vmid}/snapshot': { data: upid('vzsnapshot') },
    });
    platform = createProxmoxPlatform(configFor(fake, tls), { clock, log: createMemoryLog(clock) });
  });
  afterAll(async () => {
    await platform.close();
    await fake.close();
    tls.cleanup();
  });

  it('snapshot names - pve-configid names of 2 to 40 characters pass, dashes included', async () => {
    for (const name of ['pre-upgrade', 'A1', 'Before_Upgrade-2', `x${'1'.repeat(39)}`]) {
      await platform.snapshot('pve1', 101, name);
    }
    expect(fake.calls('POST', '/nodes/pve1/qemu/101/snapshot').map((r) => r.form.get('snapname'))).toEqual([
      'pre-upgrade',
      'A1',
      'Before_Upgrade-2',
      `x${'1'.repeat(39)}`,
    ]);
  });

  it('snapshot names - invalid or reserved names are refused before anything is sent', async () => {
    const before = fake.requests.length;
    for (const name of ['a', '1abc', '-x', 'has space', 'dot.name', `x${'1'.repeat(40)}`, '', 'current', 'pending']) {
      await expect(platform.snapshot('pve1', 101, name), name).rejects.toBeInstanceOf(RangeError);
    }
    await expect(platform.snapshot('pve1', 200, 'vzdump', undefined, 'lxc')).rejects.toBeInstanceOf(RangeError);
    await expect(platform.rollback('pve1', 101, 'bad name')).rejects.toBeInstanceOf(RangeError);
    await expect(platform.deleteSnapshot('pve1', 101, '9lives')).rejects.toBeInstanceOf(RangeError);
    expect(fake.requests.length).toBe(before);
  });

  it('snapshot names - rollback and delete go to the snapshot path and send no extra parameters', async () => {
    await platform.rollback('pve1', 101, 'pre-upgrade');
    await platform.deleteSnapshot('pve1', 101, 'pre-upgrade');
    const rb = fake.calls('POST', '/nodes/pve1/qemu/101/snapshot/pre-upgrade/rollback');
    const del = fake.calls('DELETE', '/nodes/pve1/qemu/101/snapshot/pre-upgrade');
    expect(rb).toHaveLength(1);
    expect([...rb[0]!.form.keys()]).toEqual([]);
    expect(del).toHaveLength(1);
    expect([...del[0]!.query.keys()]).toEqual([]);
  });
});
