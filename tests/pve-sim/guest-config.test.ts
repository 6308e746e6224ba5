// Guest config on the simulator, over HTTPS through the real proxmox-api client (raw requests where the status line
// matters): POST (a qmconfig task) and PUT (synchronous) qemu config with cloud-init, pending changes on a running
// VM, LXC config, disk resize, the guest agent ping, and a template with linked clones that cannot be destroyed.
import { type ProxmoxEngineOptions, proxmoxApi } from 'proxmox-api';
import { fetch } from 'undici';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { demoSeed } from '../../adapters/pve-sim';
import { startTestSim, type TestSim, TOKEN, untilClockTimer } from './helpers';

type ClientFetch = NonNullable<ProxmoxEngineOptions['fetch']>;

const GiB = 1024 ** 3;
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHN1cGVyLXNlY3JldC1rZXktZm9yLXRlc3RzIQ student@lab';

describe('pve-sim guest config', () => {
  let t: TestSim;
  beforeEach(async () => {
    const seed = demoSeed();
    seed.vms.push({
      vmid: 120,
      name: 'no-agent',
      node: 'pve1',
      status: 'running',
      cores: 1,
      maxmem: GiB,
      maxdisk: 8 * GiB,
      agent: false,
    });
    t = await startTestSim({ seed });
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
  const qemu = (node: string, vmid: number) => client().nodes.$(node).qemu.$(vmid);
  const lxc = (node: string, vmid: number) => client().nodes.$(node).lxc.$(vmid);
  const finish = async (upid: string, type: string) => {
    await t.clock.advanceAsync(t.sim.taskDuration(type));
    return t.taskStatus(upid);
  };
  const api = (method: string, path: string, form?: Record<string, string | number>) =>
    t.api(method, path, form ? { form } : {});

  it('config - POST sets cores, memory, name, tags, a NIC on a VNet with a VLAN tag and cloud-init, as a task', async () => {
    const upid = await t.op('POST', '/nodes/pve3/qemu/102/config', {
      cores: 4,
      memory: 4096,
      name: 'router-1',
      tags: 'Lab;range;lab',
      net1: 'virtio,bridge=labnet,tag=20',
      ipconfig1: 'ip=10.10.0.5/24,gw=10.10.0.1',
      ciuser: 'student',
      sshkeys: encodeURIComponent(KEY),
    });
    expect(upid).toContain(':qmconfig:102:');
    expect(await finish(upid, 'qmconfig')).toMatchObject({ exitstatus: 'OK' });
    const cfg = await qemu('pve3', 102).config.$get();
    expect(cfg).toMatchObject({
      cores: 4,
      memory: '4096',
      name: 'router-1',
      tags: 'lab;range',
      ipconfig1: 'ip=10.10.0.5/24,gw=10.10.0.1',
      ciuser: 'student',
      sshkeys: encodeURIComponent(KEY),
    });
    expect(cfg.net1).toMatch(/^virtio=BC:24:11:[0-9A-F]{2}(:[0-9A-F]{2}){2},bridge=labnet,tag=20$/);
    const log = (await client().nodes.$('pve3').tasks.$(upid).log.$get()).map((l) => l.t);
    expect(log[0]).toBe(
      `update VM 102: -ciuser student -cores 4 -ipconfig1 ip=10.10.0.5/24,gw=10.10.0.1 -memory 4096 -name router-1 ` +
        `-net1 virtio,bridge=labnet,tag=20 -sshkeys ${encodeURIComponent(KEY)} -tags Lab;range;lab`,
    );
    // the inventory sees the change
    expect((await client().cluster.resources.$get({ type: 'vm' })).find((r) => r.vmid === 102)).toMatchObject({
      name: 'router-1',
      maxcpu: 4,
      maxmem: 4096 * 1024 ** 2,
      tags: 'lab;range',
    });
  });

  it('config - SSH keys must be URL-encoded public keys; bad options answer 400 or 500 as PVE does', async () => {
    expect((await api('PUT', '/nodes/pve3/qemu/102/config', { sshkeys: KEY })).body?.errors).toEqual({
      sshkeys: `invalid format - invalid urlencoded string: ${KEY}\n`,
    });
    expect(
      await api('PUT', '/nodes/pve3/qemu/102/config', { sshkeys: encodeURIComponent('ssh-rsa notakey') }),
    ).toMatchObject({
      status: 500,
      statusText: 'SSH public key validation error',
    });
    expect(await api('PUT', '/nodes/pve3/qemu/102/config', {})).toMatchObject({
      status: 500,
      statusText: 'no options specified',
    });
    expect((await api('PUT', '/nodes/pve3/qemu/102/config', { delete: 'bogus' })).body?.errors).toEqual({
      delete: "unknown option 'bogus'",
    });
    expect(
      (await api('PUT', '/nodes/pve3/qemu/102/config', { net0: 'virtio,bridge=vmbr0,tag=5000' })).body?.errors,
    ).toEqual({
      net0: 'invalid format - format error\nnet0.tag: value must have a maximum value of 4094\n',
    });
    expect((await api('PUT', '/nodes/pve3/qemu/102/config', { ipconfig0: 'gw=10.0.0.1' })).body?.errors).toEqual({
      ipconfig0: "invalid format - format error\nipconfig0.ip: missing property required by 'ipconfig0.gw'\n",
    });
    expect(await api('PUT', '/nodes/pve3/qemu/102/config', { cores: 2, digest: 'abc' })).toMatchObject({
      status: 500,
      statusText: 'checksum mismatch (file change by other user?)',
    });
    expect(await api('PUT', '/nodes/pve3/qemu/102/config', { scsi1: 'local-zfs:10' })).toMatchObject({ status: 501 });
  });

  it('config - a running VM takes name and cloud-init at once; cores wait for its next start', async () => {
    await qemu('pve1', 100).config.$put({ cores: 6, name: 'web-01a', ciuser: 'ops' });
    const current = await qemu('pve1', 100).config.$get({ current: true });
    expect(current).toMatchObject({ cores: 2, name: 'web-01a', ciuser: 'ops' });
    expect(await qemu('pve1', 100).config.$get()).toMatchObject({ cores: 6 });
    expect(t.sim.state.vms.get(100)?.pending).toEqual({ cores: '6' });
    await finish(await qemu('pve1', 100).status.stop.$post(), 'qmstop');
    await finish(await qemu('pve1', 100).status.start.$post(), 'qmstart');
    expect(await qemu('pve1', 100).config.$get({ current: true })).toMatchObject({ cores: 6 });
    expect(t.sim.state.vms.get(100)?.pending).toBeUndefined();
  });

  it('config - delete removes options; a stopped VM applies at once', async () => {
    await qemu('pve3', 102).config.$put({ net1: 'virtio,bridge=vmbr0', ipconfig1: 'ip=dhcp' });
    await t.api('PUT', '/nodes/pve3/qemu/102/config', { form: { delete: 'net1,ipconfig1' } });
    const cfg = await qemu('pve3', 102).config.$get();
    expect(cfg.net1).toBeUndefined();
    expect(cfg.ipconfig1).toBeUndefined();
    expect(cfg.net0).toMatch(/^virtio=BC:24:11:.*,bridge=vmbr0,firewall=1$/);
  });

  it('config - a container takes hostname, cores, memory and a NIC with its own address', async () => {
    await lxc('pve3', 301).config.$put({
      hostname: 'build-ct-2',
      cores: 3,
      memory: 1024,
      net1: 'name=eth1,bridge=vmbr0,ip=10.10.0.7/24,gw=10.10.0.1,tag=30',
    });
    const cfg = await lxc('pve3', 301).config.$get();
    expect(cfg).toMatchObject({ hostname: 'build-ct-2', cores: 3, memory: 1024 });
    expect(cfg.net1).toMatch(
      /^name=eth1,bridge=vmbr0,gw=10\.10\.0\.1,hwaddr=BC:24:11:[0-9A-F:]{8},ip=10\.10\.0\.7\/24,tag=30,type=veth$/,
    );
    expect(await api('PUT', '/nodes/pve3/lxc/301/config', { delete: 'memory' })).toMatchObject({
      status: 500,
      statusText: "unable to delete required option 'memory'",
    });
    // a running container gets a new NIC on a bridge its node lacks: PVE cannot hot-plug it
    const r = await api('PUT', '/nodes/pve1/lxc/300/config', { net1: 'name=eth1,bridge=nosuch' });
    expect(r.body?.errors).toEqual({ net1: "unable to hotplug net1: bridge 'nosuch' does not exist\n" });
  });

  it("resize - grows a disk with +N or to N; shrinking fails with PVE's text", async () => {
    expect(await finish(await qemu('pve3', 102).resize.$put({ disk: 'scsi0', size: '+8G' }), 'resize')).toMatchObject({
      exitstatus: 'OK',
      type: 'resize',
    });
    expect(t.sim.state.vms.get(102)?.maxdisk).toBe(40 * GiB);
    expect((await qemu('pve3', 102).config.$get()).scsi0).toContain('size=40G');
    expect(await finish(await qemu('pve3', 102).resize.$put({ disk: 'scsi0', size: '20G' }), 'resize')).toMatchObject({
      exitstatus: 'shrinking disks is not supported',
    });
    expect(await finish(await qemu('pve3', 102).resize.$put({ disk: 'scsi1', size: '+1G' }), 'resize')).toMatchObject({
      exitstatus: "disk 'scsi1' does not exist",
    });
    expect(await finish(await lxc('pve3', 301).resize.$put({ disk: 'rootfs', size: '20G' }), 'resize')).toMatchObject({
      exitstatus: 'OK',
    });
    expect(await api('PUT', '/nodes/pve3/lxc/301/resize', { disk: 'rootfs', size: '10G' })).toMatchObject({
      status: 500,
      statusText: 'unable to shrink disk size',
    });
    expect(await api('PUT', '/nodes/pve3/lxc/301/resize', { disk: 'rootfs', size: '20G' })).toMatchObject({
      status: 500,
      statusText: 'disk is already at specified size',
    });
  });

  it("agent - ping answers once the VM has run a few seconds; PVE's errors otherwise", async () => {
    expect(await api('POST', '/nodes/pve3/qemu/102/agent/ping')).toMatchObject({
      status: 500,
      statusText: 'VM 102 is not running',
    });
    await finish(await qemu('pve3', 102).status.start.$post(), 'qmstart');
    const early = api('POST', '/nodes/pve3/qemu/102/agent/ping');
    await untilClockTimer(t.clock);
    await t.clock.advanceAsync(3_000);
    expect(await early).toMatchObject({ status: 500, statusText: 'QEMU guest agent is not running' });
    await t.clock.advanceAsync(5_000);
    expect(await qemu('pve3', 102).agent.ping.$post()).toEqual({ result: {} });
    // a guest without an agent never answers
    const none = api('POST', '/nodes/pve1/qemu/120/agent/ping');
    await untilClockTimer(t.clock);
    await t.clock.advanceAsync(3_000);
    expect(await none).toMatchObject({ status: 500, statusText: 'QEMU guest agent is not running' });
    // removing `agent` from a running VM waits for its restart: its agent still answers
    await qemu('pve1', 103).config.$put({ delete: 'agent' });
    expect(await qemu('pve1', 103).agent.ping.$post()).toEqual({ result: {} });
    await qemu('pve2', 104).config.$put({ delete: 'agent' });
    expect(await api('POST', '/nodes/pve2/qemu/104/agent/ping')).toMatchObject({
      status: 500,
      statusText: 'No QEMU guest agent configured',
    });
  });

  it('destroy - a template with linked clones cannot be destroyed, VM or container', async () => {
    expect(await finish(await qemu('pve1', 9000).$delete(), 'qmdestroy')).toMatchObject({
      exitstatus: "base volume 'local-zfs:base-9000-disk-0' is still in use by linked cloned",
    });
    expect(t.sim.state.vms.has(9000)).toBe(true);
    const clone = await lxc('pve2', 9100).clone.$post({ newid: 330, hostname: 'ct-linked' });
    await finish(clone, 'vzclone');
    expect(await finish(await lxc('pve2', 9100).$delete(), 'vzdestroy')).toMatchObject({
      exitstatus: "base volume 'basevol-9100-disk-0' is still in use by linked clones",
    });
    await finish(await lxc('pve2', 330).$delete(), 'vzdestroy');
    expect(await finish(await lxc('pve2', 9100).$delete(), 'vzdestroy')).toMatchObject({ exitstatus: 'OK' });
  });
});
