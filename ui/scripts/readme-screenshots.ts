// Takes the README's two pictures of the dashboard from a running Overseer (`npm start`): the fleet view once the
// page has watched the nodes for a minute (their sparklines), and the inspector on a VM actor that just started.
// Debian's Chromium only (never a downloaded browser).
//   OVERSEER_URL=http://127.0.0.1:8001 npx tsx ui/scripts/readme-screenshots.ts [data/admin.token]
import { readFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const base = process.env.OVERSEER_URL ?? 'http://127.0.0.1:8001';
const token = readFileSync(process.argv[2] ?? 'data/admin.token', 'utf8').trim();
const vm = process.env.OVERSEER_SCREENSHOT_VM ?? 'lab/101';
const watchMs = Number(process.env.OVERSEER_SCREENSHOT_WATCH_MS ?? 65_000);

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--no-first-run',
    '--disable-quic',
  ],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`${base}/`);
  await page.getByTestId('signin-token').fill(token);
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('fleet-table').waitFor();
  await page.waitForTimeout(watchMs);
  await page.screenshot({ path: 'docs/dashboard-fleet.png' });

  // A VM that moves: started (or stopped) through the gate, then looked at in the inspector.
  await page.goto(`${base}/#/vm/${vm}`);
  const state = await page.getByTestId('vm-state').getAttribute('data-state');
  await page.getByTestId(state === 'running' ? 'action-stop' : 'action-start').click();
  await page.getByTestId('gate-answer').waitFor();
  await page.waitForTimeout(3000);
  await page.goto(`${base}/#/inspect/vm:${vm}`);
  await page.getByTestId('inspector-svg').waitFor();
  await page.waitForTimeout(1000);
  await page.screenshot({ path: 'docs/dashboard-inspector.png' });
} finally {
  await browser.close();
}
