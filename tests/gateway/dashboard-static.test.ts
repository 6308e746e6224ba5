// GET / and /assets/*: the built dashboard, served from a temporary dist directory (the gateway's uiDistDir
// option): its page with a strict CSP, its files with their content types and caching, no way out of the
// directory, and a 503 saying how to build it while it is missing.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../adapters/nats/memory-bus';
import { startGateway } from '../../gateway';
import { DEFAULT_UI_DIST_DIR, isHashedName } from '../../gateway/routes/dashboard';
import { createCoreClient } from '../../protocol';
import { startFakeCore } from './fake-core';
import type { TestGateway } from './setup';
import { errorOf, setupGateway } from './setup';

const CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'";
const SECRET = 'SECRET-OUTSIDE-DIST';
const INDEX =
  '<!doctype html><html><head><script type="module" src="/assets/index-B4x9Qz1a.js"></script></head></html>';
const SCRIPT = 'console.log("dashboard");\n';

let root: string;
let dist: string;

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'overseer-dist-'));
  dist = join(root, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  writeFileSync(join(dist, 'index.html'), INDEX);
  writeFileSync(join(dist, 'assets', 'index-B4x9Qz1a.js'), SCRIPT);
  writeFileSync(join(dist, 'assets', 'index-Cq2ZpL0d.css'), 'body{margin:0}\n');
  writeFileSync(join(dist, 'assets', 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>\n');
  writeFileSync(join(dist, 'assets', '.env'), `${SECRET}\n`);
  // What a traversal would be after: files beside and above the served directory.
  writeFileSync(join(dist, 'package.json'), `{"name":"${SECRET}"}\n`);
  writeFileSync(join(root, 'package.json'), `{"name":"${SECRET}"}\n`);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Raw paths (not normalised by a URL parser on this side) trying to leave dist/assets. */
const TRAVERSALS = [
  '/assets/../package.json',
  '/assets/../../package.json',
  '/assets/%2e%2e/package.json',
  '/assets/%2E%2E/%2E%2E/package.json',
  '/assets/.%2e/package.json',
  '/assets/..%2fpackage.json',
  '/assets/..%2f..%2fpackage.json',
  '/assets/%2e%2e%2f%2e%2e%2fpackage.json',
  '/assets/..%5c..%5cpackage.json',
  '/assets/..\\..\\package.json',
  '/assets/%252e%252e/%252e%252e/package.json',
  '/assets/%252e%252e%252f%252e%252e%252fpackage.json',
  '/assets//../package.json',
  '/assets/%2fetc%2fpasswd',
  '/assets/.env',
  '/assets/%2eenv',
];

describe('gateway dashboard static', () => {
  let gw: TestGateway | undefined;
  afterEach(() => {
    gw?.close();
    gw?.bus.close();
    gw = undefined;
  });

  it('dashboard - the default dist is ui/dist of the project', () => {
    const project = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
    expect(DEFAULT_UI_DIST_DIR).toBe(join(project, 'ui', 'dist'));
  });

  it('dashboard - GET / serves index.html with the CSP, nosniff, and revalidation', async () => {
    gw = setupGateway({ uiDistDir: dist });
    const res = await gw.call('GET', '/');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('content-security-policy')).toBe(CSP);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(await res.text()).toBe(INDEX);
    const head = await gw.call('HEAD', '/');
    expect(head.status).toBe(200);
    expect(head.headers.get('content-security-policy')).toBe(CSP);
    expect(await head.text()).toBe('');
    const post = await gw.call('POST', '/');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
  });

  it('dashboard - an asset is served with its content type; hashed names are cached for good', async () => {
    gw = setupGateway({ uiDistDir: dist });
    const js = await gw.call('GET', '/assets/index-B4x9Qz1a.js');
    expect(js.status).toBe(200);
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(js.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(js.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await js.text()).toBe(SCRIPT);
    const css = await gw.call('GET', '/assets/index-Cq2ZpL0d.css');
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    await css.body?.cancel();
    const svg = await gw.call('GET', '/assets/logo.svg');
    expect(svg.headers.get('content-type')).toBe('image/svg+xml; charset=utf-8');
    expect(svg.headers.get('cache-control')).toBe('no-cache');
    await svg.body?.cancel();
    const missing = await gw.call('GET', '/assets/nope-A1b2C3d4.js');
    expect(missing.status).toBe(404);
    expect(await errorOf(missing)).toMatchObject({ code: 'not_found' });
    expect(missing.headers.get('cache-control')).toBeNull();
  });

  it('dashboard - hashed names are told from plain ones', () => {
    for (const name of ['index-B4x9Qz1a.js', 'vendor-DkL_2-aZ.js', 'inspector-0a1b2c3d.css']) {
      expect(isHashedName(name), name).toBe(true);
    }
    for (const name of ['logo.svg', 'index.js', 'my-component.js', 'index-abc.js']) {
      expect(isHashedName(name), name).toBe(false);
    }
  });

  it('dashboard - traversal out of the assets is refused (404), encoded or not', async () => {
    gw = setupGateway({ uiDistDir: dist });
    for (const path of TRAVERSALS) {
      const res = await gw.call('GET', path);
      const text = await res.text();
      expect(res.status, path).toBe(404);
      expect(text, path).not.toContain(SECRET);
    }
  });

  it('dashboard - traversal over a real socket, raw request lines, is refused too', async () => {
    const bus = createMemoryBus();
    startFakeCore(bus);
    const running = await startGateway(
      { core: createCoreClient(bus), bus, rateLimit: false, uiDistDir: dist, log: { warn: () => {}, error: () => {} } },
      { port: 0 },
    );
    try {
      const get = (path: string) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = request({ host: running.hostname, port: running.port, path, method: 'GET' }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              body += chunk;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          });
          req.on('error', reject);
          req.end();
        });
      expect((await get('/assets/index-B4x9Qz1a.js')).body).toBe(SCRIPT);
      for (const path of TRAVERSALS) {
        const { status, body } = await get(path);
        expect(status, path).toBeGreaterThanOrEqual(400);
        expect(status, path).toBeLessThan(500);
        expect(body, path).not.toContain(SECRET);
      }
    } finally {
      await running.close();
      bus.close();
    }
  });

  it('dashboard - without a build, GET / is a 503 saying to run npm run build:ui', async () => {
    gw = setupGateway({ uiDistDir: join(root, 'not-built') });
    const res = await gw.call('GET', '/');
    expect(res.status).toBe(503);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toContain('npm run build:ui');
    expect(text.trimEnd().split('\n')).toHaveLength(1);
    expect((await gw.call('GET', '/assets/index-B4x9Qz1a.js')).status).toBe(404);
    expect(gw.logged).toEqual([]);
  });

  it('dashboard - the page and the session routes stay out of the OpenAPI document', async () => {
    gw = setupGateway({ uiDistDir: dist });
    const doc = await (await gw.call('GET', '/openapi.json')).json();
    const paths = Object.keys(doc.paths);
    expect(paths).not.toContain('/');
    expect(paths.some((p) => p.startsWith('/assets') || p === '/v1/session')).toBe(false);
  });
});
