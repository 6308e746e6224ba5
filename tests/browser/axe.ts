// The accessibility check: axe-core's own build injected into the page under test and run on the whole document.
// Injected through the DevTools protocol (page.evaluate), not as a <script>: the dashboard's CSP (no inline
// scripts) would rightly refuse that, and the page is checked with its real CSP on. Only the violations of
// impact serious or critical count (the bar); each comes back with the selectors of the nodes at fault.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  /** CSS selectors of (up to five of) the offending nodes, with axe's summary of what is wrong there. */
  nodes: string[];
}

/** The subset of axe's answer read here (axe-core's own types need the DOM lib). */
interface AxeAnswer {
  violations: {
    id: string;
    impact?: string | null;
    help: string;
    nodes: { target: unknown[]; failureSummary?: string }[];
  }[];
}

/** Runs axe-core on the page as it stands; returns its serious and critical violations. */
export async function seriousViolations(page: Page): Promise<AxeViolation[]> {
  const loaded = await page.evaluate(() => typeof (globalThis as { axe?: unknown }).axe === 'object');
  if (!loaded) await page.evaluate(axeSource);
  const answer = await page.evaluate(() => {
    const axe = (globalThis as unknown as { axe: { run(o: unknown): Promise<unknown> } }).axe;
    return axe.run({ resultTypes: ['violations'] }) as Promise<AxeAnswer>;
  });
  return answer.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => ({
      id: v.id,
      impact: v.impact!,
      help: v.help,
      nodes: v.nodes
        .slice(0, 5)
        .map((n) => `${n.target.join(' ')}: ${(n.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 240)}`),
    }));
}
