// The browser tests' harness: the stack (stack.ts) and Debian's Chromium driven by playwright-core — never a
// downloaded browser. A page signs in as a person through the dashboard's own form (`signin-token`,
// `signin-submit`), each person in a browser context of their own (their own cookie jar). Every wait is bounded:
// playwright's actions and waits time out after ACTION_MS, navigations after NAVIGATION_MS. `screenshot` keeps a
// PNG per test under test-results/browser/ (gitignored).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from './chromium';
import type { BrowserStack, Tokens } from './stack';
import { startBrowserStack } from './stack';

/** Where the tests' screenshots go. */
export const SCREENSHOT_DIR = join(import.meta.dirname, '..', '..', 'test-results', 'browser');
const ACTION_MS = 10_000;
const NAVIGATION_MS = 15_000;
/** A desktop window: the fleet table and the side navigation both fit. */
const VIEWPORT = { width: 1280, height: 800 };

export type Person = keyof Tokens;

export interface Harness {
  stack: BrowserStack;
  browser: Browser;
  /** A fresh browser context (no cookie) with one page on the dashboard's sign-in form. */
  open(): Promise<Page>;
  /** A fresh context signed in as `who`, its page on `#/<route>` (default the fleet). */
  signedIn(who: Person, route?: string): Promise<Page>;
  /** Closes every context, the browser and the stack. */
  close(): Promise<void>;
}

export async function startHarness(): Promise<Harness> {
  const stack = await startBrowserStack();
  let browser: Browser;
  try {
    browser = await launchChromium();
  } catch (error) {
    await stack.stop();
    throw error;
  }
  const contexts: BrowserContext[] = [];
  const open = async () => {
    const context = await browser.newContext({ viewport: VIEWPORT });
    context.setDefaultTimeout(ACTION_MS);
    context.setDefaultNavigationTimeout(NAVIGATION_MS);
    contexts.push(context);
    const page = await context.newPage();
    await page.goto(stack.url);
    return page;
  };
  return {
    stack,
    browser,
    open,
    async signedIn(who, route = 'fleet') {
      const page = await open();
      await signIn(page, stack.tokens[who]);
      if (route !== 'fleet') await go(page, route);
      return page;
    },
    async close() {
      await Promise.all(contexts.map((c) => c.close().catch(() => {})));
      await browser.close().catch(() => {});
      await stack.stop();
    },
  };
}

/** Signs in through the dashboard's form; resolves once the signed-in navigation is shown. */
export async function signIn(page: Page, token: string): Promise<void> {
  await page.getByTestId('signin-token').fill(token);
  await page.getByTestId('signin-submit').click();
  await page.getByTestId('nav-fleet').waitFor();
}

/** Moves to a hash route (`vm/lab/101`, `requests`, …) without reloading the page. */
export async function go(page: Page, route: string): Promise<void> {
  await page.evaluate((hash) => {
    (globalThis as unknown as { location: { hash: string } }).location.hash = hash;
  }, `#/${route}`);
}

/** Saves the page as test-results/browser/<name>.png; returns the file's path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const path = join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path, fullPage: true });
  return path;
}

/** The session's CSRF token as the page itself would read it (GET /v1/session with the cookie). */
export async function csrfOf(page: Page): Promise<string> {
  return page.evaluate(async () => {
    const res = await fetch('/v1/session');
    return ((await res.json()) as { csrf: string }).csrf;
  });
}
