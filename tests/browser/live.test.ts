// The dashboard in Chromium against the real stack: signing in with an API token (kept in an HttpOnly cookie the
// page cannot read), the fleet of the demo cluster, a VM's row and the inspector's statechart following state
// changes live (no reload), and a VM view's action button answered by the gate check by check.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsServerAvailable } from '../helpers/nats-server';
import type { Harness } from './harness';
import { go, screenshot, signIn, startHarness } from './harness';
import { until } from './stack';

let h: Harness;

/** Marks the page's JavaScript realm: the mark survives anything but a reload. */
const markRealm = (page: Page) =>
  page.evaluate(() => {
    (globalThis as unknown as { __noReload: boolean }).__noReload = true;
  });
const realmKept = (page: Page) =>
  page.evaluate(() => (globalThis as unknown as { __noReload?: boolean }).__noReload === true);

/** The VM's state as the core's VM actor has it (GET /v1/actors). */
async function actorState(key: string): Promise<string | undefined> {
  const answer = await h.stack.api<{ items: { id: string; state: string }[] }>('GET', `/v1/actors?kind=vm&limit=500`);
  return answer.body.items.find((a) => a.id === `vm:${key}`)?.state;
}

/** Submits `action` on lab/<vmid> through the API as `token`; resolves once the request has ended completed. */
async function actAndWait(action: string, vmid: number, token: string): Promise<void> {
  const submitted = await h.stack.api<{ id: string; decision: string }>('POST', '/v1/requests', {
    token,
    body: { action, target: `lab/${vmid}` },
  });
  expect(submitted.status, JSON.stringify(submitted.body)).toBe(201);
  expect(submitted.body.decision).toBe('approved');
  await until(
    `request ${submitted.body.id}`,
    () => h.stack.api<{ status: string }>('GET', `/v1/requests/${submitted.body.id}`),
    (r) => ['completed', 'failed', 'denied'].includes(r.body.status),
  ).then((r) => expect(r.body.status).toBe('completed'));
}

describe.runIf(natsServerAvailable)('dashboard live', () => {
  beforeAll(async () => {
    h = await startHarness();
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  }, 30_000);

  it('sign-in - an API token signs in; the session is an HttpOnly, SameSite=Strict cookie the page cannot read', async () => {
    const page = await h.open();
    await page.getByTestId('signin-token').waitFor();
    await screenshot(page, 'signin');
    await signIn(page, h.stack.tokens.admin);
    const cookies = await page.context().cookies();
    const session = cookies.find((c) => c.name === 'overseer_session');
    expect(session).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(await page.evaluate(() => (globalThis as unknown as { document: { cookie: string } }).document.cookie)).toBe(
      '',
    );
    // The token itself is nowhere in the page once signed in.
    expect(await page.content()).not.toContain(h.stack.tokens.admin);
  });

  it('fleet - the demo cluster is shown: its guests in the table with their states', async () => {
    const page = await h.signedIn('observer');
    await page.getByTestId('fleet-table').waitFor();
    // The demo seed: web-01 (100) and web-02 (101) run, web-03 (102) is stopped.
    const row = (vmid: number) => page.getByTestId(`vm-row-lab-${vmid}`);
    await expect.poll(() => row(100).getAttribute('data-state')).toBe('running');
    expect(await row(101).getAttribute('data-state')).toBe('running');
    expect(await row(102).getAttribute('data-state')).toBe('stopped');
    await expect.poll(() => row(100).textContent()).toContain('web-01');
    await screenshot(page, 'fleet');
  });

  it('fleet - a VM stopped by another person changes state in its row without a reload', async () => {
    const page = await h.signedIn('observer');
    const row = page.getByTestId('vm-row-lab-101');
    await expect.poll(() => row.getAttribute('data-state')).toBe('running');
    await markRealm(page);
    await actAndWait('stop', 101, h.stack.tokens.operator);
    await page.locator('[data-testid="vm-row-lab-101"][data-state="stopped"]').waitFor();
    expect(await realmKept(page)).toBe(true);
    await screenshot(page, 'fleet-live-stop');
  });

  it('vm - the stop button submits a request and shows the gate’s answer check by check; the state follows', async () => {
    const page = await h.signedIn('operator', 'vm/lab/100');
    await expect.poll(() => page.getByTestId('vm-state').getAttribute('data-state')).toBe('running');
    expect(await page.getByTestId('vm-status').textContent()).toBe('running');
    expect(await page.getByTestId('vm-uptime').textContent()).not.toBe('—');
    await markRealm(page);
    // The guest's requests are asked of the API for this guest (GET /v1/requests?guest=), not picked from a page.
    const guestRequests = page.waitForRequest((r) => r.url().includes('/v1/requests?guest=lab%2F100'));
    // Pressed from the keyboard: where the focus goes next matters most there.
    await page.getByTestId('action-stop').focus();
    await page.keyboard.press('Enter');
    const answer = page.getByTestId('gate-answer');
    await answer.waitFor();
    expect(await answer.getAttribute('data-decision')).toBe('approved');
    for (const check of ['authorization', 'production', 'conflicts']) {
      expect(await answer.getByTestId(`check-${check}`).getAttribute('data-outcome'), check).toBe('pass');
    }
    await page.locator('[data-testid="vm-state"][data-state="stopped"]').waitFor();
    expect(await realmKept(page)).toBe(true);
    // What the platform says follows the state change at once (read again on the guest's state event, not a
    // throttled second later): platform status stopped, no uptime.
    await expect.poll(() => page.getByTestId('vm-status').textContent(), { timeout: 1000 }).toBe('stopped');
    expect(await page.getByTestId('vm-uptime').textContent()).toBe('—');
    // A stopped VM offers start, no more stop.
    await page.getByTestId('action-start').waitFor();
    expect(await page.getByTestId('action-stop').count()).toBe(0);
    // The focus went to the gate's answer (its decision a status message), not to the button now where stop was.
    expect(await answer.evaluate((e) => e.ownerDocument.activeElement === e)).toBe(true);
    expect(await answer.getByTestId('gate-decision').evaluate((e) => e.tagName)).toBe('OUTPUT');
    // The request is listed among the guest's requests.
    await guestRequests;
    const [request] = (await h.stack.api<{ items: { id: string }[] }>('GET', '/v1/requests?guest=lab/100')).body.items;
    await page.getByTestId(`request-row-${request!.id}`).waitFor();
    await screenshot(page, 'vm-stop');
  });

  it('inspector - the VM actor’s statechart highlights its new state after an event', async () => {
    const page = await h.signedIn('observer', 'inspect/vm:lab/106');
    await page.getByTestId('inspector-svg').waitFor();
    const running = page.getByTestId('state-node-running');
    const stopped = page.getByTestId('state-node-stopped');
    await expect.poll(() => running.getAttribute('data-active')).toBe('true');
    expect(await stopped.getAttribute('data-active')).not.toBe('true');
    expect(await running.getAttribute('class')).toMatch(/\bactive\b/);
    await screenshot(page, 'inspector-before');
    await markRealm(page);

    await actAndWait('stop', 106, h.stack.tokens.operator);
    await until(
      'the VM actor stopped',
      () => actorState('lab/106'),
      (s) => s === 'stopped',
    );
    await page.locator('[data-testid="state-node-stopped"][data-active="true"]').waitFor();
    expect(await running.getAttribute('data-active')).not.toBe('true');
    expect(await stopped.getAttribute('class')).toMatch(/\bactive\b/);
    // The events that moved it (the stop operation started, then ended) are listed with their times.
    const events = page.getByTestId('inspector-events');
    await expect.poll(() => events.textContent()).toMatch(/OPERATION_STARTED/);
    expect(await events.textContent()).toMatch(/\d\d:\d\d:\d\d(\.\d+)? ?OPERATION_ENDED/);
    expect(await realmKept(page)).toBe(true);
    await screenshot(page, 'inspector-after');
  });

  it('navigation - every view is reached from the navigation without a reload', async () => {
    const page = await h.signedIn('admin');
    await markRealm(page);
    for (const view of ['requests', 'incidents', 'labs', 'audit', 'health', 'fleet']) {
      await page.getByTestId(`nav-${view}`).click();
      await expect
        .poll(() => page.evaluate(() => (globalThis as unknown as { location: { hash: string } }).location.hash))
        .toBe(`#/${view}`);
      await expect.poll(() => page.locator('h1').count()).toBe(1);
    }
    await go(page, 'vm/lab/103');
    await page.getByTestId('vm-state').waitFor();
    expect(await realmKept(page)).toBe(true);
  });
});
