// Every route × every caller: no token and a bad token → 401, a role below the route's → 403, enough → 2xx.
import { afterEach, describe, expect, it } from 'vitest';
import type { RouteSpec } from '../../gateway';
import type { Role } from '../../protocol';
import { createCoreClient, ROLE_RANK, ROLES } from '../../protocol';
import type { TestGateway } from './setup';
import { setupGateway } from './setup';

/** A request that succeeds on each route, given a request `r1` awaiting approval (requested by alan). */
const SAMPLES: Record<string, { path: string; body?: unknown }> = {
  getStatus: { path: '/v1/status' },
  getSummary: { path: '/v1/summary' },
  getHealth: { path: '/v1/health' },
  listVms: { path: '/v1/vms?cluster=lab' },
  getVm: { path: '/v1/vms/lab/101' },
  listSnapshots: { path: '/v1/vms/lab/101/snapshots' },
  listBackups: { path: '/v1/backups?cluster=lab&vmid=101' },
  planLab: { path: '/v1/labs/plan', body: { file: 'name: fake\ncluster: lab\n' } },
  listHosts: { path: '/v1/hosts' },
  submitRequest: { path: '/v1/requests', body: { action: 'start', target: 'lab/101' } },
  listRequests: { path: '/v1/requests' },
  getRequest: { path: '/v1/requests/r1' },
  approveRequest: { path: '/v1/requests/r1/approve' },
  denyRequest: { path: '/v1/requests/r1/deny', body: { reason: 'not now' } },
  cancelRequest: { path: '/v1/requests/r1/cancel' },
  syncNow: { path: '/v1/sync' },
  streamEvents: { path: '/v1/events' },
  createToken: { path: '/v1/tokens', body: { name: 'ci', role: 'operator' } },
  listTokens: { path: '/v1/tokens' },
  revokeToken: { path: '/v1/tokens/tok1' },
  listAudit: { path: '/v1/audit' },
  listIncidents: { path: '/v1/incidents?state=unresolved' },
  getIncident: { path: '/v1/incidents/i1' },
  ackIncident: { path: '/v1/incidents/i1/ack', body: { note: 'looking' } },
  resolveIncident: { path: '/v1/incidents/i1/resolve' },
  listMaintenance: { path: '/v1/maintenance?all=true' },
  startMaintenance: {
    path: '/v1/maintenance',
    body: { scope: 'guest', target: 'lab/101', durationSeconds: 3600, reason: 'disk swap' },
  },
  endMaintenance: { path: '/v1/maintenance/m-seeded' },
  listSilences: { path: '/v1/silences' },
  addSilence: {
    path: '/v1/silences',
    body: { kind: 'vm-unexpected-stop', guest: 'lab/101', durationSeconds: 600, reason: 'flaky agent' },
  },
  removeSilence: { path: '/v1/silences/s-seeded' },
  applyLab: {
    path: '/v1/labs',
    body: { file: 'name: demo\ncluster: lab\nvms:\n  - name: app\n    template: debian-12\n' },
  },
  listLabs: { path: '/v1/labs?live=false' },
  getLab: { path: '/v1/labs/web' },
  approveLab: { path: '/v1/labs/review/approve', body: { reason: 'reviewed' } },
  denyLab: { path: '/v1/labs/draft/deny' },
  destroyLab: { path: '/v1/labs/web/destroy' },
  snapshotLab: { path: '/v1/labs/web/snapshot', body: { snapshot: 'pre-upgrade' } },
  revertLab: { path: '/v1/labs/web/revert', body: { snapshot: 'base' } },
  listActors: { path: '/v1/actors?kind=overseer' },
  inspectActor: { path: '/v1/actors/overseer/inspect' },
};

const probe = setupGateway();
const routes = probe.routes.specs.filter((s) => s.role !== 'public');
type Caller = 'none' | 'bad' | Role;
const CALLERS: Caller[] = ['none', 'bad', ...ROLES];

function expected(spec: RouteSpec, caller: Caller): string {
  if (caller === 'none' || caller === 'bad') return '401';
  if (spec.role === 'public') return '2xx';
  return ROLE_RANK[caller] >= ROLE_RANK[spec.role] ? '2xx' : '403';
}

describe('gateway roles', () => {
  let gw: TestGateway | undefined;
  afterEach(() => gw?.bus.close());

  it('roles - every non-public route has a sample request', () => {
    expect(routes.length).toBeGreaterThanOrEqual(17);
    for (const spec of routes) expect(SAMPLES[spec.operationId], spec.operationId).toBeDefined();
  });

  const cases = routes.flatMap((spec) => CALLERS.map((caller) => ({ spec, caller, want: expected(spec, caller) })));
  it.each(cases)('roles - $spec.method $spec.path as $caller → $want', async ({ spec, caller, want }) => {
    gw = setupGateway();
    await createCoreClient(gw.bus)
      .withCredential(gw.core.tokens.admin2)
      .submit({ action: 'destroy', target: { cluster: 'lab', vmid: 114 }, params: {}, force: true });
    const sample = SAMPLES[spec.operationId]!;
    const token = caller === 'none' ? undefined : caller === 'bad' ? 'ovs_not_a_token' : gw.core.tokens[caller];
    const res = await gw.call(spec.method.toUpperCase(), sample.path, {
      ...(token !== undefined ? { token } : {}),
      ...(sample.body !== undefined ? { body: sample.body } : {}),
    });
    await res.body?.cancel();
    if (want === '2xx') expect(res.status, `${res.status}`).toBeGreaterThanOrEqual(200);
    if (want === '2xx') expect(res.status).toBeLessThan(300);
    else expect(String(res.status)).toBe(want);
    if (want === '401') expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('roles - public routes answer without a token', async () => {
    gw = setupGateway();
    const publics = gw.routes.specs.filter((s) => s.role === 'public').map((s) => s.path);
    expect(publics.sort()).toEqual(['/healthz', '/metrics', '/openapi.json']);
    for (const path of publics) expect((await gw.call('GET', path)).status).toBe(200);
  });

  it('roles - a revoked token is refused with 401', async () => {
    gw = setupGateway();
    const admin = gw.core.tokens.admin;
    expect((await gw.call('DELETE', '/v1/tokens/tok2', { token: admin })).status).toBe(200);
    expect((await gw.call('GET', '/v1/status', { token: gw.core.tokens.operator })).status).toBe(401);
  });

  it('roles - malformed Authorization headers are 401 without asking the core', async () => {
    gw = setupGateway();
    for (const authorization of [
      'Basic abc',
      'Bearer',
      'Bearer a b',
      `Bearer ${'x'.repeat(600)}`,
      'Bearer \u00e9t\u00e9',
    ]) {
      const res = await gw.call('GET', '/v1/status', { headers: { authorization } });
      expect(res.status, authorization).toBe(401);
    }
  });
});
