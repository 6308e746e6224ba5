// GET / and GET /assets/*: the dashboard, as built by `npm run build:ui` into ui/dist (index.html and Vite's
// hashed files under assets/). Nothing is fetched from elsewhere, so the page's CSP allows its own origin only.
// Not in the OpenAPI document: these are a web page, not the API.
//
// Files are served by @hono/node-server's serveStatic: it is the Hono project's own file server for Node, and it
// already does what a hand-written one would have to get right — it refuses `.`/`..` segments, backslashes,
// doubled slashes and any percent-encoding left in the path (so no encoded traversal either), streams files,
// answers HEAD and byte ranges, and sets the content type from Hono's MIME table. What it leaves to the caller
// is done here: the cache and security headers, dotfiles, and a 503 instead of a 404 while nothing is built.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../deps';
import { MethodNotAllowedError, NotFoundError } from '../errors';

/** The project's ui/dist (this file is gateway/routes/dashboard.ts, run from source). */
export const DEFAULT_UI_DIST_DIR = fileURLToPath(new URL('../../ui/dist', import.meta.url));

export const DASHBOARD_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";
export const IMMUTABLE_CACHE = 'public, max-age=31536000, immutable';
export const NOT_BUILT_MESSAGE = 'The dashboard is not built: run `npm run build:ui`, then reload this page.\n';

/**
 * Vite's output names (`[name]-[hash].[ext]`, the hash 8 or more base64url characters): only those are cached
 * for good. The hash must hold a digit or a capital, so that a plain word such as `my-component.js` is not
 * mistaken for one (a hash without either only loses its long caching).
 */
export function isHashedName(name: string): boolean {
  const match = /-([A-Za-z0-9_-]{8,})\.[A-Za-z0-9]+$/.exec(name);
  return match !== null && /[0-9A-Z]/.test(match[1]!);
}

const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': DASHBOARD_CSP,
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

export function registerDashboardRoutes(app: Hono<AppEnv>, distDir: string = DEFAULT_UI_DIST_DIR): void {
  // Made on first use once the directory exists: serveStatic complains on stderr when its root is missing, and
  // the dashboard may be built after the gateway started.
  let page: MiddlewareHandler<AppEnv> | undefined;
  let assets: MiddlewareHandler<AppEnv> | undefined;
  const built = () => existsSync(distDir);
  /** serveStatic's answer, or undefined when it found no file (it then calls `next`, which does nothing here). */
  const serve = async (handler: MiddlewareHandler<AppEnv>, c: Context<AppEnv>): Promise<Response | undefined> =>
    (await handler(c, async () => {})) || undefined;

  app.get('/', async (c) => {
    c.set('route', '/');
    if (built()) {
      page ??= serveStatic<AppEnv>({ root: distDir, path: 'index.html' });
      const res = await serve(page, c);
      if (res) {
        for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.headers.set(name, value);
        // Revalidated every time: a new build must show at once (the files it names are new, hashed names).
        res.headers.set('Cache-Control', 'no-cache');
        return res;
      }
    }
    return c.text(NOT_BUILT_MESSAGE, 503, { ...SECURITY_HEADERS, 'Cache-Control': 'no-store' });
  });

  app.get('/assets/*', async (c) => {
    c.set('route', '/assets/*');
    const path = c.req.path;
    // Dotfiles are never part of a build (serveStatic itself refuses only `.` and `..`).
    if (built() && !/\/\./.test(path)) {
      assets ??= serveStatic<AppEnv>({ root: distDir });
      const res = await serve(assets, c);
      if (res) {
        for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.headers.set(name, value);
        const name = path.slice(path.lastIndexOf('/') + 1);
        res.headers.set('Cache-Control', isHashedName(name) ? IMMUTABLE_CACHE : 'no-cache');
        return res;
      }
    }
    throw new NotFoundError(`no dashboard file ${path}`);
  });

  for (const path of ['/', '/assets/*']) {
    app.all(path, (c) => {
      c.set('route', path);
      throw new MethodNotAllowedError(c.req.method, new URL(c.req.url).pathname, ['GET', 'HEAD']);
    });
  }
}
