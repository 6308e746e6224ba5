// A simulated cluster answers as the PVE release it is seeded with (SimSeed.version): PVE 8.2.4 by default,
// PVE 9 where pve-manager 9 / qemu-server 9 / pve-container 6 / pve-ha-manager 5 answer differently
// (adapters/pve-sim/versions.ts names each difference's source). Over HTTPS through the real proxmox-api client.
import { type ProxmoxEngineOptions, proxmoxApi } from 'proxmox-api';
import { fetch } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { demoSeed } from '../../adapters/pve-sim';
import { startTestSim, type TestSim, TOKEN } from './helpers';

type ClientFetch = NonNullable<ProxmoxEngineOptions['fetch']>;

const PRESSURE = [
  'pressurecpusome',
  'pressurecpufull',
  'pressureiosome',
  'pressureiofull',
  'pressurememorysome',
  'pressurememoryfull',
];

describe('pve-sim releases', () => {
  let t: TestSim | undefined;
  afterEach(() => t?.close());

  const start = async (version?: string) => {
    t = await startTestSim({ seed: { ...demoSeed(), version } });
    const sim = t;
    return proxmoxApi({
      host: '127.0.0.1',
      port: sim.sim.port,
      tokenID: TOKEN.tokenid,
      tokenSecret: TOKEN.secret,
      // proxmox-api bundles its own undici; its fetch type differs only nominally from ours.
      fetch: ((url: string | URL, init?: object) => fetch(url, { ...init, dispatcher: sim.agent })) as ClientFetch,
    });
  };

  it('pve9 - a cluster seeded without a version answers as PVE 8.2.4', async () => {
    const px = await start();
    expect(await px.version.$get()).toMatchObject({ version: '8.2.4', release: '8.2', repoid: 'faa83925c9641325' });
    const node = await px.nodes.$('pve1').status.$get();
    expect(node.memory.available).toBeUndefined();
    expect(node.kversion).toMatch(/^Linux 6\.8\./);
    const vm = await px.nodes.$('pve1').qemu.$(114).status.current.$get();
    expect(vm['running-qemu']).toBe('9.0.2');
    expect(vm.memhost).toBeUndefined();
    expect(vm.pressurecpusome).toBeUndefined();
    expect((await px.nodes.$('pve2').qemu.$(105).status.current.$get()).ha).toEqual({
      managed: 1,
      group: null,
      state: 'started',
    });
    const ctStatus = await px.nodes.$('pve1').lxc.$(300).status.current.$get();
    expect(ctStatus.pressurecpusome).toBeUndefined();
    const resources = await px.cluster.resources.$get();
    expect(resources.find((r) => r.id === 'qemu/114')?.memhost).toBeUndefined();
    expect(resources.find((r) => r.id === 'node/pve1')?.hastate).toBeUndefined();
  });

  it('pve9 - node status has memory.available and the 6.14 kernel; /version names 9.0.3', async () => {
    const px = await start('9.0.3');
    expect(await px.version.$get()).toMatchObject({ version: '9.0.3', release: '9.0', repoid: '025864202ebb6109' });
    const node = await px.nodes.$('pve1').status.$get();
    expect(node.pveversion).toBe('pve-manager/9.0.3/025864202ebb6109');
    expect(node.kversion).toMatch(/^Linux 6\.14\.8-2-pve /);
    expect(node['current-kernel']).toMatchObject({ release: '6.14.8-2-pve' });
    const { total, used, free, available } = node.memory;
    expect(available).toBe(total - used);
    expect(free).toBeLessThanOrEqual(available);
  });

  it('pve9 - VM status and the VM list carry memhost, and running VMs pressure stall averages', async () => {
    const px = await start('9.0.3');
    const running = await px.nodes.$('pve1').qemu.$(114).status.current.$get();
    expect(running.memhost).toBeGreaterThan(0);
    expect(running['running-qemu']).toBe('10.0.2');
    expect(running['running-machine']).toBe('pc-i440fx-10.0+pve0');
    for (const key of PRESSURE) expect(typeof running[key]).toBe('number');
    const stopped = await px.nodes.$('pve3').qemu.$(113).status.current.$get();
    expect(stopped.memhost).toBe(0);
    expect(stopped.pressurecpusome).toBeUndefined();
    const list = await px.nodes.$('pve1').qemu.$get({ full: true });
    expect(list.find((v) => v.vmid === 114)).toMatchObject({ 'running-qemu': '10.0.2' });
    expect(list.every((v) => typeof v.memhost === 'number')).toBe(true);
    // pve-ha-manager keeps ha.group until PVE 9.1.
    expect((await px.nodes.$('pve2').qemu.$(105).status.current.$get()).ha).toEqual({
      managed: 1,
      group: null,
      state: 'started',
    });
  });

  it('pve9 - containers: pressure while running; /cluster/resources guests carry memhost (0 for CTs), nodes their HA state', async () => {
    const px = await start('9.0.3');
    const [ct] = await px.nodes.$('pve1').lxc.$get();
    for (const key of PRESSURE) expect(typeof ct?.[key]).toBe('number');
    expect(ct?.memhost).toBeUndefined();
    const stopped = await px.nodes.$('pve3').lxc.$(301).status.current.$get();
    expect(stopped.pressurecpusome).toBeUndefined();

    const resources = await px.cluster.resources.$get();
    expect(resources.find((r) => r.id === 'qemu/114')?.memhost).toBeGreaterThan(0);
    expect(resources.find((r) => r.id === 'qemu/113')?.memhost).toBe(0);
    expect(resources.find((r) => r.id === 'lxc/300')?.memhost).toBe(0);
    t!.sim.faults.nodeOffline('pve3');
    const nodes = await px.cluster.resources.$get({ type: 'node' });
    expect(nodes.map((n) => [n.node, n.hastate])).toEqual([
      ['pve1', 'online'],
      ['pve2', 'online'],
      ['pve3', 'unknown'],
    ]);
  });

  it('pve9 - from 9.1 an HA guest status has no ha.group (groups became rules)', async () => {
    const px = await start('9.1.2');
    expect((await px.nodes.$('pve2').lxc.$(302).status.current.$get()).ha).toEqual({ managed: 1, state: 'started' });
    expect((await px.nodes.$('pve2').qemu.$(105).status.current.$get()).ha).toEqual({ managed: 1, state: 'started' });
  });
});
