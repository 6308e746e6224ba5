// Issue 11 through the gateway: migrate, rollback, delsnapshot, drain and undrain; selectors; dry runs; the guest
// type filter; snapshots and backups reads. The fake core answers (tests/gateway/fake-core.ts); the gateway checks
// shapes only, so every bad input here is one 400 naming the field, and the core is never asked.
import { describe, expect, it } from 'vitest';
import type { TestGateway } from './setup';
import { errorOf, setupGateway } from './setup';

const submit = (gw: TestGateway, body: unknown, query = '', headers: Record<string, string> = {}) =>
  gw.call('POST', `/v1/requests${query}`, { token: gw.core.tokens.operator, body, headers });

describe('gateway fleet actions', () => {
  it('fleet actions - migrate, rollback, delsnapshot, drain and undrain reach the core with their params', async () => {
    const gw = setupGateway();
    const bodies = [
      {
        action: 'migrate',
        target: { cluster: 'lab', vmid: 101 },
        params: { target: 'pve2', online: true, withLocalDisks: true },
      },
      { action: 'rollback', target: { cluster: 'lab', vmid: 101 }, params: { snapname: 'pre-upgrade' }, force: true },
      { action: 'delsnapshot', target: { cluster: 'lab', vmid: 101 }, params: { snapname: 'pre-upgrade' } },
      { action: 'drain', target: { cluster: 'lab', node: 'pve2' }, params: { concurrency: 2 } },
      { action: 'drain', target: { cluster: 'lab', node: 'pve2' } },
      { action: 'undrain', target: { cluster: 'lab', node: 'pve2' } },
    ];
    for (const body of bodies) {
      const res = await submit(gw, body);
      expect(res.status, JSON.stringify(body)).toBe(201);
    }
    expect(gw.core.submissions.map(({ requester: _, ...s }) => s)).toEqual(
      bodies.map((b) => ({ params: {}, force: false, ...b })),
    );
  });

  it('fleet actions - a selector reaches the core as is; the answer and the request list the members', async () => {
    const gw = setupGateway();
    const res = await submit(gw, { action: 'stop', target: { cluster: 'lab', selector: '@node:pve1,-114' } });
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body).toMatchObject({ decision: 'approved', members: [{ vmid: 101, action: 'stop', params: {} }] });
    expect(gw.core.submissions[0]!.target).toEqual({ cluster: 'lab', selector: '@node:pve1,-114' });
    const view = await (await gw.call('GET', `/v1/requests/${body.id}`, { token: gw.core.tokens.observer })).json();
    expect(view).toMatchObject({ target: { cluster: 'lab', selector: '@node:pve1,-114' }, members: [{ vmid: 101 }] });
  });

  it('fleet actions - a drain answers its moves as members; a production guest among them awaits approval', async () => {
    const gw = setupGateway();
    const res = await submit(gw, { action: 'drain', target: { cluster: 'lab', node: 'pve1' } });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({
      decision: 'awaiting_approval',
      status: 'awaiting_approval',
      members: [
        { vmid: 101, action: 'migrate', params: { target: 'pve2' } },
        { vmid: 114, action: 'migrate', params: { target: 'pve2' } },
      ],
    });
  });

  it('fleet actions - ?dryRun=true answers 200 with the decision, checks and expansion; nothing is recorded', async () => {
    const gw = setupGateway();
    const res = await submit(gw, { action: 'stop', target: { cluster: 'lab', selector: '@all' } }, '?dryRun=true');
    expect(res.status).toBe(200);
    expect(res.headers.get('location')).toBeNull();
    const body = await res.json();
    expect(body).toEqual({
      dryRun: true,
      decision: 'denied',
      reasons: ['VM 114 is production: needs force'],
      checks: expect.arrayContaining([expect.objectContaining({ check: 'target', outcome: 'pass' })]),
      members: [101, 102, 114].map((vmid) => ({ vmid, action: 'stop', params: {} })),
    });
    expect(body).not.toHaveProperty('id');
    expect(gw.core.submissions[0]).toMatchObject({ dryRun: true });
    expect(gw.core.requests.size).toBe(0);
  });

  it('fleet actions - a dry run in the body is the same; a single guest’s dry run has no members', async () => {
    const gw = setupGateway();
    const res = await submit(gw, { action: 'start', target: { cluster: 'lab', vmid: 102 }, dryRun: true });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ dryRun: true, decision: 'approved' });
    expect(body).not.toHaveProperty('members');
    expect(gw.core.requests.size).toBe(0);
  });

  it('fleet actions - a denied dry run is still a 200: the answer is the decision (unknown selector kind)', async () => {
    const gw = setupGateway();
    const res = await submit(
      gw,
      { action: 'stop', target: { cluster: 'lab', selector: '@colour:red' } },
      '?dryRun=true',
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      dryRun: true,
      decision: 'denied',
      reasons: [expect.stringContaining("unknown selector kind '@colour:red'")],
    });
  });

  it('fleet actions - dryRun=false in the query submits; a query and a body that disagree are one 400', async () => {
    const gw = setupGateway();
    const real = await submit(gw, { action: 'start', target: { cluster: 'lab', vmid: 102 } }, '?dryRun=false');
    expect(real.status).toBe(201);
    expect(gw.core.submissions[0]).not.toHaveProperty('dryRun');
    const clash = await submit(
      gw,
      { action: 'start', target: { cluster: 'lab', vmid: 102 }, dryRun: false },
      '?dryRun=true',
    );
    expect(clash.status).toBe(400);
    expect(await errorOf(clash)).toMatchObject({
      field: 'dryRun',
      message: 'dryRun: the query string and the body disagree',
    });
    const bad = await submit(gw, { action: 'start', target: { cluster: 'lab', vmid: 102 } }, '?dryRun=yes');
    expect(await errorOf(bad)).toMatchObject({ field: 'dryRun', in: 'query' });
    expect(gw.core.submissions).toHaveLength(1);
  });

  it('fleet actions - bad input is one 400 naming the field, and the core is not asked', async () => {
    const gw = setupGateway();
    const vm = { cluster: 'lab', vmid: 101 };
    const cases: [unknown, string, RegExp][] = [
      [
        { action: 'migrate', target: vm, params: { target: 'pve2', bandwidth: 5 } },
        'params.bandwidth',
        /unknown field/,
      ],
      [{ action: 'migrate', target: vm, params: {} }, 'params.target', /expected the node to move to/],
      [{ action: 'migrate', target: vm, params: { target: 'pve2', online: 'yes' } }, 'params.online', /boolean/],
      [{ action: 'drain', target: { cluster: 'lab' } }, 'target.node', /expected a node name/],
      [{ action: 'drain', target: { cluster: 'lab', node: 'pve1', vmid: 101 } }, 'target.vmid', /unknown field/],
      [
        { action: 'drain', target: { cluster: 'lab', node: 'pve1' }, params: { concurrency: 0 } },
        'params.concurrency',
        /./,
      ],
      [{ action: 'undrain', target: { cluster: 'lab', node: 'pve1' }, params: { now: true } }, 'params.now', /unknown/],
      [
        { action: 'stop', target: { ...vm, selector: '@tag:web' } },
        'target.selector',
        /give vmid or selector, not both/,
      ],
      [{ action: 'stop', target: { cluster: 'lab' } }, 'target.vmid', /expected a vmid or a selector/],
      [{ action: 'stop', target: { cluster: 'lab', selector: '@tag:web, -105' } }, 'target.selector', /no spaces/],
      [{ action: 'stop', target: { cluster: 'lab', selector: '' } }, 'target.selector', /./],
      [{ action: 'rollback', target: vm, params: {} }, 'params.snapname', /expected the snapshot name/],
      [
        { action: 'delsnapshot', target: vm, params: { snapname: 'a', description: 'x' } },
        'params.description',
        /unknown/,
      ],
      [
        { action: 'deploy', target: { cluster: 'lab', selector: '@all' }, params: {} },
        'target.selector',
        /unknown field/,
      ],
      [{ action: 'stop', target: vm, dryRun: 'yes' }, 'dryRun', /boolean/],
    ];
    for (const [body, field, message] of cases) {
      const res = await submit(gw, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      const error = await errorOf(res);
      expect(error, JSON.stringify(body)).toMatchObject({ code: 'invalid_input', field, in: 'body' });
      expect(error.message, JSON.stringify(body)).toMatch(message);
      expect(error.message.startsWith(`${field}: `), error.message).toBe(true);
    }
    expect(gw.core.submissions).toEqual([]);
  });
});

describe('gateway fleet reads', () => {
  it('fleet reads - guests carry their type and pool; ?type=lxc lists containers only', async () => {
    const gw = setupGateway();
    const ct = { ...gw.core.vms[0]!, vmid: 200, name: 'ct-dns', type: 'lxc' as const, pool: 'infra' };
    gw.core.vms.push(ct);
    const all = await (await gw.call('GET', '/v1/vms', { token: gw.core.tokens.observer })).json();
    expect(all.items.map((v: { vmid: number; type: string }) => [v.vmid, v.type])).toEqual([
      [101, 'qemu'],
      [102, 'qemu'],
      [114, 'qemu'],
      [200, 'lxc'],
    ]);
    const lxc = await (await gw.call('GET', '/v1/vms?type=lxc', { token: gw.core.tokens.observer })).json();
    expect(lxc).toMatchObject({ total: 1, items: [{ vmid: 200, type: 'lxc', pool: 'infra' }] });
    const bad = await gw.call('GET', '/v1/vms?type=vm', { token: gw.core.tokens.observer });
    expect(bad.status).toBe(400);
    expect(await errorOf(bad)).toMatchObject({ field: 'type', in: 'query' });
  });

  it('fleet reads - a guest’s snapshots, paged by the gateway; an unknown guest is 404', async () => {
    const gw = setupGateway();
    const token = gw.core.tokens.observer;
    const res = await gw.call('GET', '/v1/vms/lab/101/snapshots', { token });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      items: [
        { name: 'pre-upgrade', snaptime: 1_699_990_000, description: 'before the kernel update' },
        { name: 'after_upgrade', snaptime: 1_699_995_000, parent: 'pre-upgrade' },
      ],
      total: 2,
    });
    const page = await (await gw.call('GET', '/v1/vms/lab/101/snapshots?limit=1&offset=1', { token })).json();
    expect(page).toMatchObject({ items: [{ name: 'after_upgrade' }], total: 2 });
    expect(await (await gw.call('GET', '/v1/vms/lab/102/snapshots', { token })).json()).toEqual({
      items: [],
      total: 0,
    });
    const unknown = await gw.call('GET', '/v1/vms/lab/999/snapshots', { token });
    expect(unknown.status).toBe(404);
    expect(await errorOf(unknown)).toMatchObject({ message: 'no VM lab/999' });
    const bad = await gw.call('GET', '/v1/vms/lab/101/snapshots?name=x', { token });
    expect(await errorOf(bad)).toMatchObject({ field: 'name', in: 'query' });
  });

  it('fleet reads - backups: jobs, each guest’s newest, unreadable storages; one guest with cluster and vmid', async () => {
    const gw = setupGateway();
    const token = gw.core.tokens.observer;
    const all = await (await gw.call('GET', '/v1/backups', { token })).json();
    expect(all.jobs).toEqual([
      { cluster: 'lab', id: 'backup-daily', enabled: true, schedule: '21:00', storage: 'pbs', all: true, vmids: [] },
    ]);
    expect(all.guests.map((g: { vmid: number }) => g.vmid)).toEqual([101, 102, 114]);
    expect(all.failedStorages).toEqual([{ cluster: 'lab', storage: 'nfs-old' }]);
    const one = await (await gw.call('GET', '/v1/backups?cluster=lab&vmid=101', { token })).json();
    expect(one.guests).toEqual([
      expect.objectContaining({ vmid: 101, count: 3, newest: expect.objectContaining({ storage: 'pbs' }) }),
    ]);
    const noCluster = await gw.call('GET', '/v1/backups?vmid=101', { token });
    expect(noCluster.status).toBe(400);
    expect(await errorOf(noCluster)).toMatchObject({ field: 'vmid', in: 'query' });
    const unknown = await gw.call('GET', '/v1/backups?cluster=nope', { token });
    expect(await errorOf(unknown)).toMatchObject({ field: 'cluster', message: "no cluster 'nope' (clusters: lab)" });
    const badVmid = await gw.call('GET', '/v1/backups?cluster=lab&vmid=abc', { token });
    expect(await errorOf(badVmid)).toMatchObject({ field: 'vmid' });
  });
});
