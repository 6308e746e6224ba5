// PVE's failures by name: classifyPveFailure on PVE's own texts (API refusals and failed tasks), then the same
// failures produced by the simulator over HTTPS and read through the adapter.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  classifyPveFailure,
  MalformedAnswerError,
  PlatformTimeoutError,
  PveApiError,
  TaskFailedError,
} from '../../adapters/platform/errors';
import { PveClient } from '../../adapters/proxmox/client';
import { resolveConfig } from '../../adapters/proxmox/config';
import { type SimPlatform, startSimPlatform } from './sim-platform';

const api = (status: number, text: string, errors?: Record<string, string>) =>
  new PveApiError(`lab: POST /x failed: ${status} ${text}`, 'lab', status, '/x', { pveMessage: text, errors });
const task = (exitstatus: string) =>
  new TaskFailedError(`lab: task failed: ${exitstatus}`, 'lab', 'UPID:pve1:1:2:3:qmclone:9000:root@pam:', exitstatus);

describe('failures - PVE texts by name', () => {
  it('failures - locked names the lock kind for VMs and containers, with or without the id', () => {
    expect(classifyPveFailure(api(500, 'VM is locked (backup)'))).toMatchObject({
      kind: 'locked',
      lock: 'backup',
      guest: 'VM',
      source: 'api',
      status: 500,
    });
    expect(classifyPveFailure(task('CT is locked (snapshot-delete)'))).toMatchObject({
      kind: 'locked',
      lock: 'snapshot-delete',
      guest: 'CT',
      source: 'task',
    });
    expect(classifyPveFailure(api(500, 'VM 101 is locked (suspended)'))).toMatchObject({
      lock: 'suspended',
      vmid: 101,
    });
    for (const lock of ['clone', 'create', 'migrate', 'rollback', 'snapshot', 'suspending']) {
      expect(classifyPveFailure(api(500, `VM is locked (${lock})`))).toMatchObject({ kind: 'locked', lock });
    }
  });

  it("failures - lock_timeout is a flock or cfs lock not got in time, not a guest's lock", () => {
    expect(
      classifyPveFailure(task("can't lock file '/var/lock/qemu-server/lock-105.conf' - got timeout")),
    ).toMatchObject({ kind: 'lock_timeout', file: '/var/lock/qemu-server/lock-105.conf' });
    expect(
      classifyPveFailure(api(500, "can't lock file '/run/lock/lxc/pve-config-200.lock' - got timeout")),
    ).toMatchObject({ kind: 'lock_timeout', file: '/run/lock/lxc/pve-config-200.lock' });
    expect(
      classifyPveFailure(api(500, "cfs-lock 'file-ha_resources_cfg' error: got lock request timeout")),
    ).toMatchObject({
      kind: 'lock_timeout',
      file: 'file-ha_resources_cfg',
    });
  });

  it('failures - no_quorum from check_cfs_quorum and from a cfs lock', () => {
    expect(classifyPveFailure(api(500, 'cluster not ready - no quorum?'))?.kind).toBe('no_quorum');
    expect(classifyPveFailure(task("cfs-lock 'file-user_cfg' error: no quorum!"))?.kind).toBe('no_quorum');
  });

  it('failures - vmid_taken from a QEMU clone task, an LXC clone and nextid', () => {
    expect(classifyPveFailure(task('unable to create VM 130: config file already exists'))).toMatchObject({
      kind: 'vmid_taken',
      vmid: 130,
      source: 'task',
    });
    expect(classifyPveFailure(api(500, "CT 131 already exists on node 'pve2'"))).toMatchObject({
      kind: 'vmid_taken',
      vmid: 131,
      node: 'pve2',
    });
    expect(classifyPveFailure(api(500, "VM 132 already exists on node 'pve1'"))).toMatchObject({
      vmid: 132,
      node: 'pve1',
    });
  });

  it('failures - protected and ha_purge_required on destroy', () => {
    expect(classifyPveFailure(api(500, "can't remove VM 150 - protection mode enabled"))).toMatchObject({
      kind: 'protected',
      vmid: 150,
    });
    expect(classifyPveFailure(api(500, "can't remove CT 204 drive 'mp0' - protection mode enabled"))?.kind).toBe(
      'protected',
    );
    expect(
      classifyPveFailure(api(500, 'unable to remove VM 105 - used in HA resources and purge parameter not set.')),
    ).toMatchObject({ kind: 'ha_purge_required', vmid: 105 });
    expect(
      classifyPveFailure(api(500, 'unable to remove CT 202 - used in HA resources and purge parameter not set.')),
    ).toMatchObject({ kind: 'ha_purge_required', vmid: 202 });
  });

  it('failures - parameters keeps the per-parameter errors; missing names the config or the snapshot', () => {
    expect(
      classifyPveFailure(
        api(400, 'Parameter verification failed.', { snapname: "invalid format - invalid configuration ID '1x'" }),
      ),
    ).toEqual({
      kind: 'parameters',
      source: 'api',
      status: 400,
      message: 'Parameter verification failed.',
      errors: { snapname: "invalid format - invalid configuration ID '1x'" },
    });
    expect(
      classifyPveFailure(api(500, "Configuration file 'nodes/pve1/qemu-server/777.conf' does not exist")),
    ).toMatchObject({ kind: 'missing', what: 'config', vmid: 777, name: 'nodes/pve1/qemu-server/777.conf' });
    expect(classifyPveFailure(task("snapshot 'nightly' does not exist"))).toMatchObject({
      kind: 'missing',
      what: 'snapshot',
      name: 'nightly',
    });
  });

  it('failures - errors that are not PVE answers, and texts PVE means otherwise, are not classified', () => {
    expect(classifyPveFailure(new PlatformTimeoutError('lab: no answer', 'lab'))).toBeUndefined();
    expect(classifyPveFailure(new MalformedAnswerError('lab: not a UPID', 'lab', '/x'))).toBeUndefined();
    expect(classifyPveFailure(new Error('VM is locked (backup)'))).toBeUndefined();
    expect(classifyPveFailure(api(500, 'VM 100 is running - destroy failed'))).toBeUndefined();
    expect(classifyPveFailure(task('start failed: QEMU exited with code 1'))).toBeUndefined();
  });
});

describe('failures - from the simulator', () => {
  let env: SimPlatform;

  beforeAll(async () => {
    // One attempt per call: a lock refusal comes back at once instead of after the adapter's own retries.
    env = await startSimPlatform({ config: { lockRetry: { attempts: 1, baseMs: 100, capMs: 100 } } });
  });
  afterEach(() => env.sim.faults.reset());
  afterAll(() => env.stop());

  it('failures - no quorum refuses an operation as no_quorum', async () => {
    env.sim.faults.quorumLoss();
    const err = await env.failure(env.platform.power('pve2', 101, 'start'));
    expect(classifyPveFailure(err)?.kind).toBe('no_quorum');
  });

  it('failures - a guest under a backup lock is locked (backup), for a VM and a container', async () => {
    env.sim.faults.lockVm(101, 'backup');
    env.sim.faults.lockVm(201, 'backup');
    const vm = await env.failure(env.platform.power('pve2', 101, 'start'));
    const ct = await env.failure(env.platform.power('pve2', 201, 'start', 'lxc'));
    env.sim.faults.lockVm(101, null);
    env.sim.faults.lockVm(201, null);
    expect(classifyPveFailure(vm)).toMatchObject({ kind: 'locked', lock: 'backup', guest: 'VM' });
    expect(classifyPveFailure(ct)).toMatchObject({ kind: 'locked', lock: 'backup', guest: 'CT' });
  });

  it('failures - a config lock not got in time is lock_timeout (HTTP 200, failed task)', async () => {
    env.sim.faults.lockTimeout(101, 1);
    const err = await env.failure(env.platform.snapshot('pve2', 101, 'lock-test'));
    expect(classifyPveFailure(err)).toMatchObject({ kind: 'lock_timeout' });
    expect(classifyPveFailure(err)?.message).toMatch(/lock-101\.conf/);
  });

  it('failures - a clone onto a VMID that exists is vmid_taken', async () => {
    const err = await env.failure(env.platform.clone('pve1', 9000, 100, { name: 'dup', full: true }));
    expect(classifyPveFailure(err)).toMatchObject({ kind: 'vmid_taken', vmid: 100 });
    const ct = await env.failure(env.platform.clone('pve1', 9100, 101, { name: 'dup-ct', full: true, type: 'lxc' }));
    expect(classifyPveFailure(ct)).toMatchObject({ kind: 'vmid_taken', vmid: 101 });
  });

  it('failures - destroy of a protected guest is protected; of an HA guest without purge ha_purge_required', async () => {
    const prot = await env.failure(env.platform.destroy('pve3', 150));
    expect(classifyPveFailure(prot)).toMatchObject({ kind: 'protected', vmid: 150 });
    // 105 runs; PVE checks HA (and purge) before the running state.
    const ha = await env.failure(env.platform.destroy('pve2', 105));
    expect(classifyPveFailure(ha)).toMatchObject({ kind: 'ha_purge_required', vmid: 105 });
    const haCt = await env.failure(env.platform.destroy('pve3', 202, { type: 'lxc' }));
    expect(classifyPveFailure(haCt)).toMatchObject({ kind: 'ha_purge_required', vmid: 202 });
  });

  it('failures - a guest asked for on the wrong node is missing (its config file)', async () => {
    const err = await env.failure(env.platform.power('pve3', 100, 'stop'));
    expect(classifyPveFailure(err)).toMatchObject({ kind: 'missing', what: 'config', vmid: 100 });
  });

  it("failures - a 400 keeps PVE's per-parameter errors object through proxmox-api", async () => {
    // The adapter checks names before sending; the raw client sends what it is given.
    const client = new PveClient(resolveConfig(env.config), { clock: env.clock, log: env.log });
    const err = await client
      .call('POST snapshot', (a) => a.nodes.$('pve2').qemu.$(101).snapshot.$post({ snapname: '1-bad' }))
      .catch((e: unknown) => e);
    await client.close();
    expect(err).toBeInstanceOf(PveApiError);
    expect((err as PveApiError).status).toBe(400);
    const failure = classifyPveFailure(err);
    expect(failure?.kind).toBe('parameters');
    expect(failure?.kind === 'parameters' && Object.keys(failure.errors)).toEqual(['snapname']);
  });
});
