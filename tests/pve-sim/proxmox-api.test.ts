// The real client library against the simulator over HTTPS, trusting only the generated CA.
// proxmox-api takes a `fetch` option: we pass undici's fetch with an Agent pinned to the CA
// (no NODE_TLS_REJECT_UNAUTHORIZED, no NODE_EXTRA_CA_CERTS).
import { type ProxmoxEngineOptions, proxmoxApi } from 'proxmox-api';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSim, type TestSim, TOKEN, USER } from './helpers';

type ClientFetch = NonNullable<ProxmoxEngineOptions['fetch']>;

/** proxmox-api bundles its own undici (v6); its fetch type differs only nominally from ours. */
function pinnedFetch(agent: Agent): ClientFetch {
  const f = (url: string | URL, init?: object) => fetch(url, { ...init, dispatcher: agent });
  return f as unknown as ClientFetch;
}

describe('pve-sim with proxmox-api', () => {
  let t: TestSim;
  beforeAll(async () => {
    t = await startTestSim();
  });
  afterAll(() => t.close());

  const tokenClient = () =>
    proxmoxApi({
      host: '127.0.0.1',
      port: t.sim.port,
      tokenID: TOKEN.tokenid,
      tokenSecret: TOKEN.secret,
      fetch: pinnedFetch(t.agent),
    });

  it('proxmox-api - reads resources, status and nextid with an API token', async () => {
    const px = tokenClient();
    const vms = await px.cluster.resources.$get({ type: 'vm' });
    expect(vms.find((v) => v.vmid === 114)).toMatchObject({ name: 'minecraft', status: 'running', node: 'pve1' });
    const status = await px.cluster.status.$get();
    expect(status[0]).toMatchObject({ type: 'cluster', name: 'lab' });
    expect(Number(await px.cluster.nextid.$get())).toBe(116);
    const cur = await px.nodes.$('pve1').qemu.$(114).status.current.$get();
    expect(cur.status).toBe('running');
  });

  it('proxmox-api - clone, wait on the task by UPID, then the VM exists', async () => {
    const px = tokenClient();
    const upid = await px.nodes.$('pve1').qemu.$(9000).clone.$post({ newid: 125, name: 'api-clone', full: true });
    expect(upid).toMatch(/^UPID:pve1:/);
    const task = px.nodes.$('pve1').tasks.$(upid);
    expect((await task.status.$get()).status).toBe('running');
    await t.clock.advanceAsync(t.sim.taskDuration('qmclone'));
    expect(await task.status.$get()).toMatchObject({ status: 'stopped', exitstatus: 'OK' });
    const cfg = await px.nodes.$('pve1').qemu.$(125).config.$get();
    expect(cfg.name).toBe('api-clone');
    const tasks = await px.nodes.$('pve1').tasks.$get({ vmid: 9000, source: 'all' });
    expect(tasks.map((x) => x.upid)).toContain(upid);
  });

  it('proxmox-api - PVE errors surface with their status text', async () => {
    const px = tokenClient();
    await expect(px.nodes.$('pve1').qemu.$(100).$delete({ purge: true })).rejects.toThrow(
      /500 VM 100 is running - destroy failed/,
    );
    await expect(px.nodes.$('pve1').qemu.$(9000).clone.$post({ newid: 103 })).rejects.toThrow(
      /config file already exists/,
    );
    t.sim.faults.nodeOffline('pve2');
    await expect(px.nodes.$('pve2').qemu.$get()).rejects.toThrow(/596 Connection timed out/);
    t.sim.faults.nodeOffline('pve2', false);
  });

  it('proxmox-api - logs in with a password (ticket + CSRF token) and operates', async () => {
    const px = proxmoxApi({
      host: '127.0.0.1',
      port: t.sim.port,
      username: USER.userid,
      password: USER.password,
      fetch: pinnedFetch(t.agent),
    });
    const upid = await px.nodes.$('pve3').qemu.$(113).status.start.$post();
    expect(upid).toMatch(/:qmstart:113:root@pam:$/);
    await t.clock.advanceAsync(t.sim.taskDuration('qmstart'));
    expect((await px.nodes.$('pve3').qemu.$(113).status.current.$get()).status).toBe('running');
  });

  it('proxmox-api - a client not trusting the CA is refused (TLS is real)', async () => {
    const stranger = new Agent();
    try {
      const px = proxmoxApi({
        host: '127.0.0.1',
        port: t.sim.port,
        tokenID: TOKEN.tokenid,
        tokenSecret: TOKEN.secret,
        fetch: pinnedFetch(stranger),
      });
      await expect(px.version.$get()).rejects.toThrow(/FaILED to call GET/);
    } finally {
      await stranger.close();
    }
  });
});
