// Debian's Chromium (/usr/bin/chromium, installed by tests/setup when missing) driven by playwright-core: never a
// browser downloaded by playwright. Used by the browser tests and bench/dashboard.ts.
import type { Browser } from 'playwright-core';
import { chromium } from 'playwright-core';
import { findTool } from '../setup/prerequisites';

/** Headless, no sandbox (root in a container), nothing fetched from outside, no QUIC. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--disable-quic',
];

/** Launches tried before giving up: now and then a Chromium start hangs on this kind of machine (no window, no error). */
const LAUNCH_ATTEMPTS = 3;

/** Chromium, launched again (after playwright killed the hung one) when a start does not finish in `timeoutMs`. */
export async function launchChromium(timeoutMs = 15_000): Promise<Browser> {
  const executablePath = findTool('chromium');
  if (!executablePath) throw new Error('no /usr/bin/chromium: run apt-get install chromium (npm test installs it)');
  for (let attempt = 1; ; attempt++) {
    try {
      return await chromium.launch({ executablePath, args: CHROMIUM_ARGS, timeout: timeoutMs });
    } catch (error) {
      if (attempt >= LAUNCH_ATTEMPTS || (error as Error).name !== 'TimeoutError') throw error;
    }
  }
}
