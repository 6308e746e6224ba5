// Approvals and roles in Chromium against the real stack: the destroy of a production VM asked by one admin and
// approved by a second admin in a browser context of their own (the two-person rule shown to both), an observer
// who is offered no mutation at all, and forged mutations refused by the server: without or with a wrong
// X-CSRF-Token from the page itself, with the right one above the observer's role, and a form posted from another
// site (the SameSite=Strict cookie is not sent with it).
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsServerAvailable } from '../helpers/nats-server';
import type { Harness } from './harness';
import { csrfOf, go, screenshot, startHarness } from './harness';
import { until } from './stack';

let h: Harness;

/** Every control that changes something (each view's buttons that submit, approve, deny, cancel or apply). */
const MUTATIONS = [
  '[data-testid^="action-"]',
  '[data-testid="force"]',
  '[data-testid^="confirm-"]',
  '[data-testid^="approve-"]',
  '[data-testid^="deny-"]',
  '[data-testid^="cancel-"]',
  '[data-testid="lab-apply"]',
  '[data-testid="lab-approve"]',
  '[data-testid="lab-deny"]',
  '[data-testid="lab-snapshot"]',
  '[data-testid^="lab-revert-"]',
  '[data-testid="lab-destroy"]',
  '[data-testid="incident-ack"]',
  '[data-testid="incident-resolve"]',
  '[data-testid="incident-silence"]',
  '[data-testid="maintenance-start"]',
  '[data-testid^="end-window-"]',
  '[data-testid^="remove-silence-"]',
].join(', ');

interface RequestRow {
  id: string;
  action: string;
  status: string;
  target: { cluster: string; vmid?: number };
}

const requestsOn = async (vmid: number): Promise<RequestRow[]> =>
  (await h.stack.api<{ items: RequestRow[] }>('GET', '/v1/requests?limit=500')).body.items.filter(
    (r) => r.target.vmid === vmid,
  );

const requestTotal = async (): Promise<number> =>
  (await h.stack.api<{ total: number }>('GET', '/v1/requests?limit=1')).body.total;

/** POST /v1/requests from the page itself, with its cookie, and the given X-CSRF-Token (none when undefined). */
const postFromPage = (page: Page, csrf: string | undefined, body: unknown) =>
  page.evaluate(
    async ({ csrf, body }) => {
      const res = await fetch('/v1/requests', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...(csrf !== undefined ? { 'x-csrf-token': csrf } : {}) },
        body: JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as { error?: { code?: string } } };
    },
    { csrf, body },
  );

describe.runIf(natsServerAvailable)('dashboard approvals and roles', () => {
  beforeAll(async () => {
    h = await startHarness();
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  }, 30_000);

  it('requests - a production destroy asked by one admin waits for a second admin, who approves it in another browser', async () => {
    // Ada asks, on the VM view of wiki (lab/115, tagged production), with force, and confirms.
    const ada = await h.signedIn('admin', 'vm/lab/115');
    await ada.getByTestId('vm-state').waitFor();
    await ada.getByTestId('force').check();
    await ada.getByTestId('action-destroy').click();
    await ada.getByTestId('confirm-destroy').click();
    const answer = ada.getByTestId('gate-answer');
    await answer.waitFor();
    expect(await answer.getAttribute('data-decision')).toBe('awaiting_approval');
    expect(await answer.getByTestId('check-production').getAttribute('data-outcome')).toBe('approval');
    await screenshot(ada, 'destroy-asked');
    const [asked] = await until(
      'the destroy request',
      () => requestsOn(115),
      (rs) => rs.length === 1,
    );
    expect(asked).toMatchObject({ action: 'destroy', status: 'awaiting_approval' });
    const id = asked!.id;

    // Ada's view of her request: the two-person rule says she cannot approve it; she may only cancel it.
    await ada.goto(`${h.stack.url}/#/requests/${id}`);
    await ada.getByTestId(`cancel-${id}`).waitFor();
    expect(await ada.getByTestId(`approve-${id}`).count()).toBe(0);
    expect(await ada.getByTestId(`two-person-${id}`).textContent()).toMatch(/another person must approve it/);

    // Someone watching the fleet meanwhile: whether wiki's row ever shows the destroyed state (it should just go).
    const watcher = await h.signedIn('observer');
    await watcher.getByTestId('vm-row-lab-115').waitFor();
    await watcher.evaluate(() => {
      const page = globalThis as unknown as {
        __seen: { destroyedRow: boolean };
        document: { body: unknown; querySelector(selector: string): unknown };
        MutationObserver: new (
          seen: () => void,
        ) => { observe(target: unknown, options: Record<string, unknown>): void };
      };
      const seen = { destroyedRow: false };
      page.__seen = seen;
      new page.MutationObserver(() => {
        if (page.document.querySelector('[data-testid="vm-row-lab-115"][data-state="destroyed"]')) {
          seen.destroyedRow = true;
        }
      }).observe(page.document.body, {
        subtree: true,
        childList: true,
        attributes: true,
        attributeFilter: ['data-state'],
      });
    });

    // Bea, another admin, in a browser context of her own: the request is pending, and she may approve it.
    const bea = await h.signedIn('admin2', 'requests');
    const approve = bea.getByTestId(`approve-${id}`);
    await approve.waitFor();
    await go(bea, `requests/${id}`);
    expect(await bea.getByTestId(`two-person-${id}`).textContent()).toMatch(/You may approve it/);
    await screenshot(bea, 'destroy-pending-for-second-admin');
    await bea.getByTestId(`approve-${id}`).click();

    // Both pages follow the request to its end without a reload; its history names people, not token ids.
    const done = '[data-testid="request-status"][data-status="completed"]';
    await Promise.all([ada.locator(done).waitFor(), bea.locator(done).waitFor()]);
    expect((await h.stack.api<RequestRow>('GET', `/v1/requests/${id}`)).body.status).toBe('completed');
    const history = await ada.getByTestId('request-history').locator('li').allTextContents();
    expect(history.find((h) => h.includes('received'))).toMatch(/received by admin$/);
    expect(history.find((h) => h.includes('approved'))).toMatch(/approved by bea$/);
    expect(history.join('\n')).not.toMatch(/by [0-9a-f]{8}-[0-9a-f]{4}-/);
    await screenshot(ada, 'destroy-approved');
    // The destroyed guest leaves the fleet as the API no longer lists it: live, never shown as a destroyed row.
    await expect.poll(() => watcher.getByTestId('vm-row-lab-115').count()).toBe(0);
    expect(
      await watcher.evaluate(() => (globalThis as unknown as { __seen: { destroyedRow: boolean } }).__seen),
    ).toEqual({ destroyedRow: false });
    await bea.getByTestId('nav-fleet').click();
    await bea.getByTestId('vm-row-lab-114').waitFor();
    expect(await bea.getByTestId('vm-row-lab-115').count()).toBe(0);
    await screenshot(watcher, 'destroy-fleet-after');
  });

  it('roles - an observer is offered no mutation: no action buttons, no approve or deny, no lab apply', async () => {
    // A request awaiting approval, so that approve and deny would be there for someone who may.
    const pending = await h.stack.api<{ id: string; status: string }>('POST', '/v1/requests', {
      body: { action: 'destroy', target: 'lab/114', force: true },
    });
    expect(pending.body.status).toBe('awaiting_approval');
    const obi = await h.signedIn('observer', 'vm/lab/101');
    await obi.getByTestId('vm-state').waitFor();
    expect(await obi.locator(MUTATIONS).count()).toBe(0);
    await go(obi, `requests/${pending.body.id}`);
    await obi.getByTestId(`two-person-${pending.body.id}`).waitFor();
    expect(await obi.getByTestId(`two-person-${pending.body.id}`).textContent()).toMatch(/your role is observer/);
    expect(await obi.locator(MUTATIONS).count()).toBe(0);
    await obi.getByTestId('nav-requests').click();
    await obi.getByTestId(`pending-${pending.body.id}`).waitFor();
    expect(await obi.locator(MUTATIONS).count()).toBe(0);
    await screenshot(obi, 'observer-requests');
    // Labs: an observer may plan a lab file, not apply it.
    await obi.getByTestId('nav-labs').click();
    await obi.getByTestId('lab-plan').waitFor();
    expect(await obi.locator(MUTATIONS).count()).toBe(0);
    // The same request offers approve to the second admin: the controls are hidden by role, not missing.
    const bea = await h.signedIn('admin2', 'requests');
    await bea.getByTestId(`approve-${pending.body.id}`).waitFor();
    await bea.getByTestId('nav-labs').click();
    await bea.getByTestId('lab-apply').waitFor();
    // Cancelled while it awaited approval, it was never approved: its page no longer reads as a wait.
    const id = pending.body.id;
    const cancelled = await h.stack.api('POST', `/v1/requests/${id}/cancel`, { body: { reason: 'not today' } });
    expect(cancelled.status).toBe(200);
    await go(obi, `requests/${id}`);
    await obi.locator('[data-testid="request-status"][data-status="cancelled"]').waitFor();
    expect(await obi.getByTestId('request-decision').textContent()).toBe('decision never approved');
    expect((await obi.getByTestId('request-history').locator('li').allTextContents()).at(-1)).toMatch(
      /cancelled by admin — “not today”$/,
    );
  });

  it('csrf - a forged POST from the page is refused: without the CSRF token, with a wrong one, and above the role', async () => {
    const before = await requestTotal();
    const olga = await h.signedIn('operator');
    const stop = { action: 'stop', target: 'lab/100' };
    const none = await postFromPage(olga, undefined, stop);
    expect(none).toMatchObject({ status: 403, body: { error: { code: 'csrf' } } });
    const wrong = await postFromPage(olga, 'x'.repeat(43), stop);
    expect(wrong).toMatchObject({ status: 403, body: { error: { code: 'csrf' } } });

    // The observer's page with its right CSRF token: the role refuses it (the server checks, not only the page).
    const obi = await h.signedIn('observer');
    const right = await postFromPage(obi, await csrfOf(obi), stop);
    expect(right.status).toBe(403);
    expect(right.body.error?.code).not.toBe('csrf');
    expect(await requestTotal()).toBe(before);
  });

  it('csrf - a form posted to the gateway from another site is refused and changes nothing', async () => {
    const before = await requestTotal();
    const olga = await h.signedIn('operator');
    // The other site: http://localhost:<port> (127.0.0.1 is the dashboard's site; a port does not make a site).
    const target = `${h.stack.url}/v1/requests`;
    const page = `<!doctype html><html lang="en"><title>elsewhere</title><body><form method="post" action="${target}"
      enctype="text/plain"><input name='{"action":"stop","target":"lab/100","x":"' value='"}'>
      <button id="go">go</button></form></body></html>`;
    const server: Server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end(page));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      await olga.goto(`http://localhost:${port}/`);
      const [response] = await Promise.all([olga.waitForResponse(target), olga.click('#go')]);
      // No cookie went with it (SameSite=Strict): the gateway sees nobody.
      expect(response.status()).toBe(401);
      expect(await response.json()).toMatchObject({ error: { code: 'unauthorized' } });
      await screenshot(olga, 'csrf-cross-site-refused');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    expect(await requestTotal()).toBe(before);
  });
});
