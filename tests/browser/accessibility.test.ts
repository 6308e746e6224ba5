// axe-core on every view of the dashboard, each with data in it (an incident from a crashed VM, a request awaiting
// approval, a lab being applied, actors with events): no violation of impact serious or critical. The page is
// checked as served, with its CSP on; each view once its content is there (a selector per view).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsServerAvailable } from '../helpers/nats-server';
import { seriousViolations } from './axe';
import type { Harness } from './harness';
import { go, screenshot, startHarness } from './harness';
import { until } from './stack';

const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'labs', 'three-tier.yaml');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let h: Harness;
let page: Page;
let requestId: string;
let incidentId: string;

/** Each view's route and what shows that its content is there. */
const VIEWS: { name: string; route: () => string; ready: string }[] = [
  { name: 'fleet', route: () => 'fleet', ready: '[data-testid^="vm-row-"]' },
  { name: 'vm', route: () => 'vm/lab/103', ready: '[data-testid="vm-state"]' },
  { name: 'requests', route: () => 'requests', ready: '[data-testid^="pending-"]' },
  { name: 'request', route: () => `requests/${requestId}`, ready: '[data-testid^="two-person-"]' },
  { name: 'incidents', route: () => 'incidents', ready: '[data-testid^="incident-row-"]' },
  { name: 'incident', route: () => `incidents/${incidentId}`, ready: 'main h1' },
  { name: 'labs', route: () => 'labs', ready: '[data-testid="lab-row-lab-three-tier"]' },
  { name: 'lab', route: () => 'labs/lab/three-tier', ready: '[data-testid="lab-member-router"]' },
  { name: 'maintenance', route: () => 'maintenance', ready: '[data-testid^="window-"]' },
  { name: 'audit', route: () => 'audit', ready: 'main table tbody tr' },
  { name: 'health', route: () => 'health', ready: 'main h1' },
  { name: 'inspector', route: () => 'inspect/vm:lab/103', ready: '[data-testid="inspector-svg"]' },
];

/** Shows the view, waits for its content and for nothing to be loading, then runs axe on the page. */
async function check(name: string, route: string, ready: string): Promise<void> {
  await go(page, route);
  await page.locator(ready).first().waitFor();
  await expect.poll(() => page.locator('[aria-busy="true"]').count()).toBe(0);
  await sleep(200);
  await screenshot(page, `a11y-${name}`);
  const violations = await seriousViolations(page);
  expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
  expect(await page.locator('h1').count(), 'one h1 per view').toBe(1);
}

describe.runIf(natsServerAvailable)('dashboard accessibility', () => {
  beforeAll(async () => {
    h = await startHarness();
    const { api, cluster, tokens } = h.stack;
    // An incident: VM 103 crashes behind Overseer's back (the monitor opens one, then restarts the VM).
    cluster.sim.faults.crashVm(103);
    // A request awaiting a second admin.
    const pending = await api<{ id: string; status: string }>('POST', '/v1/requests', {
      body: { action: 'destroy', target: 'lab/114', force: true },
    });
    requestId = pending.body.id;
    // A maintenance window, and a silence on the guest whose page is checked (a kind its crash does not raise).
    const windowOn = { scope: 'tag', target: 'web', durationSeconds: 3600, reason: 'kernel updates' };
    expect((await api('POST', '/v1/maintenance', { body: windowOn })).status).toBe(201);
    const silence = { kind: 'vm-lock-stuck', guest: 'lab/103', durationSeconds: 3600, reason: 'backup runs long' };
    expect((await api('POST', '/v1/silences', { body: silence })).status).toBe(201);
    // A lab being applied.
    const lab = await api('POST', '/v1/labs', {
      token: tokens.operator,
      body: { file: readFileSync(EXAMPLE, 'utf8'), fileName: 'three-tier.yaml' },
    });
    expect(lab.status).toBe(202);
    const incidents = await until(
      'the crash incident',
      () => api<{ items: { id: string }[] }>('GET', '/v1/incidents?limit=10'),
      (r) => r.status === 200 && r.body.items.length > 0,
    );
    incidentId = incidents.body.items[0]!.id;
    page = await h.signedIn('admin');
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  }, 30_000);

  it('accessibility - the sign-in page has no serious or critical violation', async () => {
    const visitor = await h.open();
    await visitor.getByTestId('signin-submit').waitFor();
    const violations = await seriousViolations(visitor);
    expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
    await screenshot(visitor, 'a11y-signin');
  });

  for (const view of VIEWS) {
    it(`accessibility - the ${view.name} view has no serious or critical violation`, async () => {
      await check(view.name, view.route(), view.ready);
    });
  }
});
