// A lab apply followed in Chromium: examples/labs/three-tier.yaml applied through the API by an operator while the
// lab's view is open; its members (`lab-member-<name>`) move through their phases live, in dependency order
// (router, then db, then the web servers), until the lab is ready.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { natsServerAvailable } from '../helpers/nats-server';
import type { Harness } from './harness';
import { screenshot, startHarness } from './harness';

const EXAMPLE = join(import.meta.dirname, '..', '..', 'examples', 'labs', 'three-tier.yaml');
const MEMBERS = ['router', 'db', 'web-1', 'web-2', 'web-3'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let h: Harness;

/** Every member's phase as the page shows it now (data-phase), by name; absent members left out. */
const phasesShown = (page: Page): Promise<Record<string, string>> =>
  page.evaluate(() => {
    const doc = (globalThis as unknown as { document: { querySelectorAll(s: string): Iterable<unknown> } }).document;
    const shown: Record<string, string> = {};
    for (const el of doc.querySelectorAll('[data-testid^="lab-member-"]')) {
      const e = el as { getAttribute(n: string): string | null };
      shown[e.getAttribute('data-testid')!.slice('lab-member-'.length)] = e.getAttribute('data-phase') ?? '';
    }
    return shown;
  });

describe.runIf(natsServerAvailable)('dashboard labs', () => {
  beforeAll(async () => {
    h = await startHarness();
  }, 60_000);
  afterAll(async () => {
    await h?.close();
  }, 30_000);

  it('labs - an apply shows its progress live: each member’s phase changes, in dependency order, until ready', async () => {
    const page = await h.signedIn('observer', 'labs');
    const applied = await h.stack.api<{ name: string; status: string; decision: string }>('POST', '/v1/labs', {
      token: h.stack.tokens.operator,
      body: { file: readFileSync(EXAMPLE, 'utf8'), fileName: 'three-tier.yaml' },
    });
    expect(applied.status, JSON.stringify(applied.body)).toBe(202);
    expect(applied.body.decision).toBe('approved');

    // The list shows the lab live; its view shows the members.
    await page.getByTestId('lab-row-lab-three-tier').getByRole('link', { name: 'three-tier' }).click();
    await page.getByTestId('lab-member-router').waitFor();

    // Every distinct phase each member showed, in the order shown, sampled until the lab is ready (bounded).
    const seen = new Map<string, string[]>(MEMBERS.map((m) => [m, []]));
    let midway = false;
    const deadline = Date.now() + 45_000;
    for (;;) {
      const shown = await phasesShown(page);
      for (const [member, phase] of Object.entries(shown)) {
        const phases = seen.get(member);
        if (phases && phases.at(-1) !== phase) phases.push(phase);
      }
      if (!midway && shown.router === 'ready' && shown['web-1'] !== 'ready') {
        midway = true;
        await screenshot(page, 'lab-apply-progress');
      }
      if (MEMBERS.every((m) => shown[m] === 'ready')) break;
      if (Date.now() > deadline)
        throw new Error(`the lab never showed ready: ${JSON.stringify(Object.fromEntries(seen))}`);
      await sleep(50);
    }
    await page.locator('[data-testid="lab-status"][data-status="ready"]').waitFor();
    await screenshot(page, 'lab-ready');
    const lab = await h.stack.api<{ status: string }>('GET', '/v1/labs/three-tier');
    expect(lab.body.status).toBe('ready');
    // Each member was seen in some phase before ready: the page moved with the apply, it did not load it done.
    for (const member of MEMBERS) {
      const phases = seen.get(member)!;
      expect(phases.at(-1), member).toBe('ready');
      expect(phases.length, `${member}: ${phases.join(' → ')}`).toBeGreaterThan(1);
    }
    expect(midway, 'the router was ready while the web servers were not').toBe(true);
  }, 70_000);
});
