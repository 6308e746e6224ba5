// Maintenance in Chromium against the real stack: an operator starts a window on a guest from the maintenance
// page, the guest's page (open in another browser) shows it live and drops it live when the operator ends it; a
// target the inventory does not know is refused with the core's words and nothing is started; an observer sees
// the windows and silences but is offered no start, end or remove. A guest's page also says when it was last backed up.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsServerAvailable } from '../helpers/nats-server';
import type { Harness } from './harness';
import { screenshot, startHarness } from './harness';
import { until } from './stack';

let h: Harness;

interface WindowRow {
  id: string;
  scope: string;
  target: string;
  state: string;
  reason: string;
  byName?: string;
}

const windows = async (): Promise<WindowRow[]> =>
  (await h.stack.api<{ items: WindowRow[] }>('GET', '/v1/maintenance?all=true')).body.items;

async function startWindow(page: Page, scope: string, target: string, reason: string): Promise<void> {
  await page.getByTestId('maintenance-scope').selectOption(scope);
  await page.getByTestId('maintenance-target').fill(target);
  await page.getByTestId('maintenance-for').selectOption('3600');
  await page.getByTestId('maintenance-reason').fill(reason);
  await page.getByTestId('maintenance-start').click();
}

describe.runIf(natsServerAvailable)('dashboard maintenance', () => {
  beforeAll(async () => {
    h = await startHarness();
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  }, 30_000);

  it('maintenance - a window started from the page shows on the guest’s page live, and goes when it is ended', async () => {
    const guest = await h.signedIn('observer', 'vm/lab/101');
    await guest.getByTestId('vm-state').waitFor();
    expect(await guest.getByTestId('vm-maintenance').count()).toBe(0);

    const olga = await h.signedIn('operator', 'maintenance');
    await startWindow(olga, 'guest', 'lab/101', 'disk swap');
    await expect.poll(async () => (await windows()).filter((w) => w.target === 'lab/101').length).toBe(1);
    const [made] = (await windows()).filter((w) => w.target === 'lab/101');
    expect(made).toMatchObject({ scope: 'guest', state: 'active', reason: 'disk swap', byName: 'olga' });
    const row = olga.getByTestId(`window-${made?.id}`);
    await row.waitFor();
    expect(await row.getAttribute('data-state')).toBe('active');

    // The guest's page, in another browser, says so without a reload.
    const note = guest.getByTestId('vm-maintenance');
    await note.waitFor();
    expect(await note.textContent()).toMatch(/In maintenance.*this guest until .*, by olga: “disk swap”/);
    await screenshot(guest, 'maintenance-guest');
    await screenshot(olga, 'maintenance-list');

    await olga.getByTestId(`end-window-${made?.id}`).click();
    await row.waitFor({ state: 'detached' });
    expect((await windows()).find((w) => w.id === made?.id)?.state).toBe('ended');
    await note.waitFor({ state: 'detached' });
  });

  it('maintenance - a target the inventory does not know is refused in the core’s words; nothing starts', async () => {
    const before = (await windows()).length;
    const olga = await h.signedIn('operator', 'maintenance');
    await startWindow(olga, 'node', 'lab/pve9', 'rack move');
    await expect.poll(async () => (await olga.getByRole('alert').textContent()) ?? '').toMatch(/pve9/);
    expect(await olga.getByTestId('maintenance-target').inputValue()).toBe('lab/pve9');
    expect((await windows()).length).toBe(before);
  });

  it('maintenance - an observer sees windows and silences but is offered no start, end or remove', async () => {
    const set = await h.stack.api('POST', '/v1/silences', {
      body: { kind: 'vm-unexpected-stop', guest: 'lab/106', durationSeconds: 600, reason: 'flaky agent' },
    });
    expect(set.status).toBe(201);
    const started = await h.stack.api('POST', '/v1/maintenance', {
      body: { scope: 'tag', target: 'db', durationSeconds: 600, reason: 'db upgrade' },
    });
    expect(started.status).toBe(201);
    const obi = await h.signedIn('observer', 'maintenance');
    await obi.locator('[data-testid^="silence-"]').first().waitFor();
    await obi.locator('[data-testid^="window-"]').first().waitFor();
    expect(await obi.locator('table').first().textContent()).toMatch(/tag db/);
    const controls =
      '[data-testid="maintenance-start"], [data-testid^="end-window-"], [data-testid^="remove-silence-"]';
    expect(await obi.locator(controls).count()).toBe(0);
    // The tag's window covers a guest that carries it.
    const db = await h.signedIn('observer', 'vm/lab/103');
    expect(await db.getByTestId('vm-maintenance').textContent()).toMatch(/tag db until/);
    // The same page says when the guest was last backed up, and which jobs cover it.
    await expect
      .poll(() => db.getByTestId('vm-backup').textContent())
      .toMatch(/^never · jobs: backup-nightly \(21:00\)$/);
  });

  it('maintenance - an operator silences an incident’s kind on its guest from the incident’s page; an observer cannot', async () => {
    h.stack.cluster.sim.faults.crashVm(105);
    const found = await until(
      'the crash incident of lab/105',
      () => h.stack.api<{ items: { id: string }[] }>('GET', '/v1/incidents?guest=lab/105&limit=10'),
      (r) => r.status === 200 && r.body.items.length > 0,
    );
    const id = found.body.items[0]!.id;
    const olga = await h.signedIn('operator', `incidents/${id}`);
    await olga.getByTestId('silence-reason').fill('agent flaps');
    await olga.getByTestId('incident-silence').click();
    await olga.getByTestId('incident-silenced').waitFor();
    const silences = (await h.stack.api<{ items: unknown[] }>('GET', '/v1/silences')).body.items;
    expect(silences).toContainEqual(
      expect.objectContaining({ kind: 'vm-unexpected-stop', guest: 'lab/105', reason: 'agent flaps', byName: 'olga' }),
    );
    const obi = await h.signedIn('observer', `incidents/${id}`);
    await obi.getByTestId('incident-state').waitFor();
    expect(await obi.getByTestId('incident-silence').count()).toBe(0);
  });
});
