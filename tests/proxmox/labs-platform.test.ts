// The platform work labs need, through the Proxmox adapter against the PVE simulator over HTTPS: SDN (pending until
// applied), pools, guest config with cloud-init, disk resize, the guest agent ping, and the refusal to destroy a
// template that linked clones use (classified by name).
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { classifyPveFailure, PveApiError, TaskFailedError } from '../../adapters/platform/errors';
import { type SimPlatform, startSimPlatform } from './sim-platform';

const GiB = 1024 ** 3;
const KEY = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHN1cGVyLXNlY3JldC1rZXktZm9yLXRlc3RzIQ student@lab';

describe('labs platform on the simulator', () => {
  let env: SimPlatform;
  beforeEach(async () => {
    await env?.stop();
    env = await startSimPlatform();
  });
  afterAll(() => env?.stop());

  const rejection = async (p: Promise<unknown>) =>
    env.settle(p).then(
      () => undefined,
      (err: unknown) => err,
    );

  it('sdn - zone, VNet and subnet are read back pending, and applied by applySdn', async () => {
    const p = env.platform;
    await env.settle(p.createSdnZone({ zone: 'lab', type: 'simple', ipam: 'pve' }));
    await env.settle(p.createSdnVnet({ vnet: 'labnet', zone: 'lab' }));
    const id = await env.settle(
      p.createSdnSubnet({
        vnet: 'labnet',
        cidr: '10.10.0.0/24',
        gateway: '10.10.0.1',
        snat: true,
        dhcpRanges: [
          { start: '10.10.0.100', end: '10.10.0.150' },
          { start: '10.10.0.200', end: '10.10.0.210' },
        ],
      }),
    );
    expect(id).toBe('lab-10.10.0.0-24');
    expect(await env.settle(p.readSdn())).toEqual({
      zones: [{ zone: 'lab', type: 'simple', ipam: 'pve', state: 'new' }],
      vnets: [{ vnet: 'labnet', zone: 'lab', state: 'new' }],
      subnets: [
        {
          id: 'lab-10.10.0.0-24',
          vnet: 'labnet',
          cidr: '10.10.0.0/24',
          gateway: '10.10.0.1',
          snat: true,
          dhcpRanges: [
            { start: '10.10.0.100', end: '10.10.0.150' },
            { start: '10.10.0.200', end: '10.10.0.210' },
          ],
          state: 'new',
        },
      ],
      pending: true,
    });
    expect(await env.run(p.applySdn())).toMatchObject({ type: 'reloadnetworkall', exitstatus: 'OK' });
    const applied = await env.settle(p.readSdn());
    expect(applied.pending).toBe(false);
    expect(applied.vnets).toEqual([{ vnet: 'labnet', zone: 'lab' }]);
    expect(env.sim.state.sdn.nodeVnets.pve2).toEqual(['labnet']);

    await env.settle(p.deleteSdnSubnet('labnet', id));
    await env.settle(p.deleteSdnVnet('labnet'));
    await env.settle(p.deleteSdnZone('lab'));
    const deleted = await env.settle(p.readSdn());
    expect(deleted.zones).toEqual([{ zone: 'lab', type: 'simple', ipam: 'pve', state: 'deleted' }]);
    expect(deleted.vnets).toEqual([{ vnet: 'labnet', zone: 'lab', state: 'deleted' }]);
    expect(deleted.pending).toBe(true);
    await env.run(p.applySdn());
    expect(await env.settle(p.readSdn())).toEqual({ zones: [], vnets: [], subnets: [], pending: false });
  });

  it('sdn - PVE refusals arrive as PveApiError with its text; bad ids never leave the adapter', async () => {
    const p = env.platform;
    await env.settle(p.createSdnZone({ zone: 'vl', type: 'vlan', bridge: 'vmbr0' }));
    const err = await rejection(p.createSdnVnet({ vnet: 'v1', zone: 'vl' }));
    expect(err).toBeInstanceOf(PveApiError);
    expect((err as PveApiError).pveMessage).toBe(
      'create sdn vnet object failed: 400 Parameter verification failed.\ntag: missing vlan tag',
    );
    await env.settle(p.createSdnVnet({ vnet: 'v1', zone: 'vl', tag: 10 }));
    expect(((await rejection(p.deleteSdnZone('vl'))) as PveApiError).pveMessage).toMatch(/zone vl is used by vnet v1/);
    await expect(p.createSdnZone({ zone: 'much-too-long', type: 'simple' })).rejects.toThrow(RangeError);
    await expect(p.createSdnSubnet({ vnet: 'v1', cidr: '10.0.0.1' })).rejects.toThrow(RangeError);
    expect(env.sim.oplog.filter((e) => e.op.startsWith('sdn-') && e.result === 'OK')).toHaveLength(2);
  });

  it('pools - a pool is created, takes guests, shows in the inventory, and is deleted once empty', async () => {
    const p = env.platform;
    await env.settle(p.createPool('range1', 'lab range1'));
    expect(await env.settle(p.listPools())).toEqual([{ poolid: 'lab1' }, { poolid: 'range1', comment: 'lab range1' }]);
    await env.settle(p.addPoolMembers('range1', [100, 101]));
    expect((await env.inventory()).vms.filter((v) => v.pool === 'range1').map((v) => v.vmid)).toEqual([100, 101]);
    const busy = await rejection(p.deletePool('range1'));
    expect((busy as PveApiError).pveMessage).toBe("delete pool failed: pool 'range1' is not empty (contains VM 100)");
    const taken = await rejection(p.addPoolMembers('range1', [200]));
    expect((taken as PveApiError).pveMessage).toBe(
      "update pools failed: VM 200 belongs already to pool 'lab1' and 'allow-move' is not set",
    );
    await env.settle(p.addPoolMembers('range1', [200], { allowMove: true }));
    await env.settle(p.removePoolMembers('range1', [100, 101, 200]));
    await env.settle(p.deletePool('range1'));
    expect((await env.settle(p.listPools())).map((x) => x.poolid)).toEqual(['lab1']);
    await expect(p.createPool('9lives')).rejects.toThrow(RangeError);
  });

  it('configure - a VM gets cores, memory, tags, a NIC on a VNet with cloud-init address, user and keys', async () => {
    const ref = await env.settle(
      env.platform.configureGuest('pve2', 101, {
        name: 'db-1',
        cores: 4,
        memory: 4096,
        tags: ['lab', 'db'],
        nics: [{ index: 1, bridge: 'labnet', tag: 20, ip: '10.10.0.5/24', gw: '10.10.0.1' }],
        ciuser: 'student',
        sshKeys: [KEY, KEY.replace('student', 'teacher')],
      }),
    );
    expect(ref?.upid).toContain(':qmconfig:101:');
    await env.run(Promise.resolve(ref!));
    const vm = env.sim.state.vms.get(101)!;
    expect(vm).toMatchObject({ name: 'db-1', cores: 4, maxmem: 4096 * 1024 ** 2, tags: ['db', 'lab'] });
    expect(vm.options).toMatchObject({
      ipconfig1: 'ip=10.10.0.5/24,gw=10.10.0.1',
      ciuser: 'student',
      sshkeys: encodeURIComponent(`${KEY}\n${KEY.replace('student', 'teacher')}`),
    });
    expect(vm.options?.net1).toMatch(/^virtio=BC:24:11:[0-9A-F:]{8},bridge=labnet,tag=20$/);
    await expect(
      env.platform.configureGuest('pve2', 101, { nics: [{ index: 0, bridge: 'vmbr0', gw: '10.0.0.1' }] }),
    ).rejects.toThrow(RangeError);
  });

  it('configure - a container takes its address in its NIC; the PUT answers no task', async () => {
    const ref = await env.settle(
      env.platform.configureGuest(
        'pve2',
        201,
        { name: 'cache-1', cores: 2, nics: [{ index: 0, bridge: 'vmbr0', ip: '10.10.0.9/24', gw: '10.10.0.1' }] },
        'lxc',
      ),
    );
    expect(ref).toBeNull();
    expect(env.sim.state.vms.get(201)?.options?.net0).toMatch(
      /^name=eth0,bridge=vmbr0,gw=10\.10\.0\.1,hwaddr=BC:24:11:[0-9A-F:]{8},ip=10\.10\.0\.9\/24,type=veth$/,
    );
    await expect(env.platform.configureGuest('pve2', 201, { ciuser: 'x' }, 'lxc')).rejects.toThrow(/for VMs/);
  });

  it("resize - a disk grows; shrinking fails its task with PVE's text", async () => {
    await env.run(env.platform.resizeDisk('pve2', 101, 'scsi0', '+4G'));
    expect((await env.inventory()).vms.find((v) => v.vmid === 101)?.maxdisk).toBe(20 * GiB);
    const err = await env.failure(env.platform.resizeDisk('pve2', 101, 'scsi0', '8G'));
    expect(err).toBeInstanceOf(TaskFailedError);
    expect((err as TaskFailedError).exitstatus).toBe('shrinking disks is not supported');
  });

  it('agent - false until the guest agent answers, then true; an unreachable node is an error', async () => {
    expect(await env.settle(env.platform.agentPing('pve2', 101))).toBe(false);
    await env.run(env.platform.power('pve2', 101, 'start'));
    // just started: the agent in the guest is not up within the ping's 3 seconds
    expect(await env.settle(env.platform.agentPing('pve2', 101))).toBe(false);
    await env.clock.advanceAsync(5_000);
    expect(await env.settle(env.platform.agentPing('pve2', 101))).toBe(true);
    env.sim.faults.nodeOffline('pve2');
    expect(await rejection(env.platform.agentPing('pve2', 101))).toBeInstanceOf(PveApiError);
  });

  it('destroy - a template its linked clones use is refused: has_linked_clones', async () => {
    await env.run(env.platform.clone('pve1', 9000, 120, { name: 'linked-1', full: false }));
    const err = await env.failure(env.platform.destroy('pve1', 9000));
    expect(classifyPveFailure(err)).toEqual({
      source: 'task',
      kind: 'has_linked_clones',
      volume: 'local-zfs:base-9000-disk-0',
      message: "base volume 'local-zfs:base-9000-disk-0' is still in use by linked cloned",
    });
  });
});
