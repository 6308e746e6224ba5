// `npm start` runs the built bundle (dist/server/overseer.mjs, scripts/build-server.mjs) with plain Node, not the
// sources through tsx: the bundle must start the whole embedded default, find the dashboard and the shipped
// runbooks from where it sits, gate a request, write its V8 code cache (and run on without a usable one), and stop
// cleanly on SIGTERM.
import type { ChildProcess } from 'node:child_process';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findFreePort } from '../../adapters/nats';
import type { TestNatsServer } from '../helpers/nats-server';
import { natsServerAvailable, startNatsServer } from '../helpers/nats-server';

const root = join(import.meta.dirname, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let nats: TestNatsServer;
let proc: ChildProcess;
let dataDir: string;
let base: string;
let token: string;
const lines: string[] = [];

describe.runIf(natsServerAvailable)('built server', () => {
  beforeAll(async () => {
    execFileSync(process.execPath, ['scripts/build-server.mjs'], { cwd: root, stdio: 'inherit' });
    nats = await startNatsServer();
    dataDir = mkdtempSync(join(tmpdir(), 'overseer-built-'));
    const port = await findFreePort();
    base = `http://127.0.0.1:${port}`;
    proc = spawn(process.execPath, ['dist/server/overseer.mjs', 'serve', '--role', 'all'], {
      cwd: root,
      env: {
        ...process.env,
        OVERSEER_DATA_DIR: dataDir,
        OVERSEER_PORT: String(port),
        OVERSEER_SIM_PORT: String(await findFreePort()),
        NATS_URL: nats.url,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    proc.stdout?.on('data', (d: Buffer) => lines.push(...d.toString().split('\n')));
    proc.stderr?.on('data', (d: Buffer) => lines.push(...d.toString().split('\n')));
    const deadline = Date.now() + 60_000;
    for (;;) {
      const tokenFile = join(dataDir, 'admin.token');
      token = existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : '';
      const res = token
        ? await fetch(`${base}/v1/status`, { headers: { authorization: `Bearer ${token}` } }).catch(() => undefined)
        : undefined;
      if (res?.ok) break;
      if (proc.exitCode !== null || Date.now() > deadline) {
        throw new Error(`the built server did not come up:\n${lines.slice(-30).join('\n')}`);
      }
      await sleep(100);
    }
  }, 120_000);

  afterAll(async () => {
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    }
    await nats?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('built server - finds the shipped runbooks from dist/server', () => {
    const loaded = lines.find((l) => /knowledge: \d+ runbooks loaded/.test(l));
    expect(loaded, lines.join('\n')).toBeDefined();
    expect(Number(/knowledge: (\d+) runbooks/.exec(loaded ?? '')?.[1])).toBeGreaterThan(0);
  });

  it('built server - serves the dashboard from ui/dist when it is built', async () => {
    const res = await fetch(`${base}/`);
    const body = await res.text();
    if (existsSync(join(root, 'ui', 'dist', 'index.html'))) {
      expect(res.status).toBe(200);
      expect(body).toContain('<div id="app"');
    } else {
      expect(body).toContain('The dashboard is not built');
    }
  });

  it('built server - gates a request through NATS like the sources do', async () => {
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    let vms: { cluster: string; vmid: number; production: boolean }[] = [];
    for (let i = 0; i < 100 && vms.length === 0; i++) {
      const res = await fetch(`${base}/v1/vms`, { headers });
      vms = ((await res.json()) as { items: typeof vms }).items ?? [];
      if (vms.length === 0) await sleep(100);
    }
    const vm = vms.find((v) => !v.production);
    expect(vm).toBeDefined();
    const res = await fetch(`${base}/v1/requests`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ action: 'snapshot', target: `${vm?.cluster}/${vm?.vmid}`, params: { snapname: 'built' } }),
    });
    expect(res.status).toBe(201);
    const answer = (await res.json()) as { decision: string; id: string };
    expect(answer.decision).toBe('approved');
    // Executed through the bundled Proxmox client (whose engine's own undici is left out of the bundle).
    let status = '';
    for (let i = 0; i < 300 && status !== 'completed' && status !== 'failed'; i++) {
      await sleep(100);
      const got = await fetch(`${base}/v1/requests/${answer.id}`, { headers });
      status = ((await got.json()) as { status: string }).status;
    }
    expect(status).toBe('completed');
  }, 60_000);

  it('built server - carries one undici (the Proxmox engine uses the fetch it is given)', () => {
    const map = JSON.parse(readFileSync(join(root, 'dist', 'server', 'overseer-bundle.cjs.map'), 'utf8')) as {
      sources: string[];
    };
    expect(map.sources.some((s) => s.includes('node_modules/undici/'))).toBe(true);
    expect(map.sources.filter((s) => s.includes('proxmox-api/node_modules/undici'))).toEqual([]);
  });

  it('built server - its bundle is ASCII, read as latin1; the licence comments are kept beside it', () => {
    const dir = join(root, 'dist', 'server');
    expect(readFileSync(join(dir, 'overseer-bundle.cjs')).every((b) => b < 0x80)).toBe(true);
    expect(readFileSync(join(dir, 'overseer.mjs'), 'utf8')).toContain('readFileSync(file, "latin1")');
    expect(readFileSync(join(dir, 'overseer-bundle.cjs.LEGAL.txt'), 'utf8')).toContain('formdata-polyfill');
  });

  it('built server - writes its code cache after the start; a damaged or foreign one only means compiling', async () => {
    // The loader names the cache after its bundle's hash (scripts/build-server.mjs).
    const loader = readFileSync(join(root, 'dist', 'server', 'overseer.mjs'), 'utf8');
    const name = /"(overseer-bundle\.[0-9a-f]+\.v8-cache)"/.exec(loader)?.[1];
    expect(name).toBeDefined();
    const cache = join(root, 'dist', 'server', name ?? '');
    const deadline = Date.now() + 20_000;
    while (!existsSync(cache) && Date.now() < deadline) await sleep(100);
    expect(existsSync(cache)).toBe(true);
    const help = () =>
      execFileSync(process.execPath, ['dist/server/overseer.mjs', 'help'], { cwd: root, encoding: 'utf8' });
    expect(help()).toContain('Usage: overseer');
    // With --enable-source-maps, Node's own loader runs the bundle (and reads its source map).
    const withMaps = execFileSync(process.execPath, ['--enable-source-maps', 'dist/server/overseer.mjs', 'help'], {
      cwd: root,
      encoding: 'utf8',
    });
    expect(withMaps).toContain('Usage: overseer');
    const good = readFileSync(cache);
    try {
      writeFileSync(cache, Buffer.alloc(good.length, 7));
      expect(help()).toContain('Usage: overseer');
    } finally {
      writeFileSync(cache, good);
    }
  }, 30_000);

  it('built server - stops cleanly on SIGTERM', async () => {
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    proc.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 30_000);
});
