// vitest globalSetup: the programs the tests run, checked once per run before any test file loads (and by
// `npm run bench`, bench/run.ts, whose benchmarks run the same programs).
// A missing one is installed from Debian's packages when we are root, apt-get exists and
// OVERSEER_TEST_INSTALL is not 0; otherwise the run stops with one line naming the command to run.
// The helpers (tests/helpers/sshd.ts, nats-server.ts, tests/browser) find the programs with findTool(), as checked
// here. Then the dashboard (ui/) is built when its build is missing or older than its sources, so the browser tests
// drive the pages of this checkout.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, statSync } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { findNatsServerBinary } from '../../adapters/nats/server-process';

/** Where programs live on Debian, searched after $PATH (/usr/sbin is often not on a user's PATH). */
const USUAL_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin'];

interface Tool {
  /** The Debian package that provides it. */
  readonly pkg: string;
  /** Who runs it. */
  readonly usedBy: string;
  /** Where the code runs it from when that path is fixed (no $PATH search). */
  readonly at?: string;
  /** A custom lookup (nats-server honours $NATS_SERVER_BIN). */
  readonly find?: () => string | null;
}

/** Every external program the tests run → its Debian package. */
const TOOLS = {
  sshd: { pkg: 'openssh-server', usedBy: 'tests/helpers/sshd.ts (tests/ssh, tests/runtime/ssh-incident)' },
  'ssh-keygen': { pkg: 'openssh-client', usedBy: 'tests/helpers/sshd.ts, tests/ssh' },
  'nats-server': {
    pkg: 'nats-server',
    usedBy: 'tests/helpers/nats-server.ts (tests/nats, tests/e2e, tests/resilience)',
    find: () => findNatsServerBinary(),
  },
  openssl: { pkg: 'openssl', usedBy: 'adapters/pve-sim/certificates.ts (PVE simulator TLS)', at: '/usr/bin/openssl' },
  chromium: { pkg: 'chromium', usedBy: 'tests/browser (playwright-core drives it)', at: '/usr/bin/chromium' },
} satisfies Record<string, Tool>;

export type ToolName = keyof typeof TOOLS;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The absolute path of a program the tests need: $PATH, then the usual dirs; null when absent. */
export function findTool(name: ToolName): string | null {
  const tool: Tool = TOOLS[name];
  if (tool.find) return tool.find();
  if (tool.at) return isExecutable(tool.at) ? tool.at : null;
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(isAbsolute), ...USUAL_DIRS];
  return dirs.map((dir) => join(dir, name)).find(isExecutable) ?? null;
}

/**
 * Stops the run with one line. Not a throw: vitest would print "No test files found" and a banner around it,
 * and nothing has started yet that needs cleaning up.
 */
function fail(line: string): never {
  process.stderr.write(`${line}\n`);
  process.exit(1);
}

function missingTools(): ToolName[] {
  return (Object.keys(TOOLS) as ToolName[]).filter((name) => findTool(name) === null);
}

function packagesOf(names: ToolName[]): string[] {
  return [...new Set(names.map((name) => TOOLS[name].pkg))];
}

function run(argv: string[], cwd?: string): { ok: boolean; output: string } {
  const r = spawnSync(argv[0]!, argv.slice(1), {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    stdio: ['ignore', 'pipe', 'pipe'],
    maxBuffer: 64 * 1024 * 1024,
  });
  return {
    ok: r.status === 0,
    output: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}`,
  };
}

export default function setup(): void {
  ensurePrerequisites('overseer tests');
}

/** What `who` (named in its messages) needs: the programs, installed when missing, and the dashboard built. */
export function ensurePrerequisites(who: string): void {
  installMissingTools(who);
  buildDashboard(who);
}

function installMissingTools(who: string): void {
  const missing = missingTools();
  if (missing.length === 0) return;

  const natsOverride = process.env.NATS_SERVER_BIN;
  if (missing.includes('nats-server') && natsOverride) {
    fail(`${who} need nats-server: NATS_SERVER_BIN=${natsOverride} is not an executable; fix or unset it`);
  }

  const packages = packagesOf(missing);
  const what = missing.join(', ');
  const root = process.getuid?.() === 0;
  const apt = isExecutable('/usr/bin/apt-get');
  const permitted = process.env.OVERSEER_TEST_INSTALL !== '0';
  const command = `${root ? '' : 'sudo '}apt-get install -y ${packages.join(' ')}`;

  if (!(root && apt && permitted)) {
    const why = !apt ? ' (Debian packages; or install them your own way)' : '';
    fail(`${who} need ${what}: run '${command}'${why}`);
  }

  console.log(`${who}: installing ${packages.join(' ')} (for ${what}; OVERSEER_TEST_INSTALL=0 forbids this)`);
  // Another apt-get (a concurrent test run, say) may hold the lock: wait for it rather than fail.
  const wait = ['-o', 'DPkg::Lock::Timeout=300'];
  const update = run(['apt-get', ...wait, 'update', '-qq']);
  const install = update.ok
    ? run(['apt-get', ...wait, 'install', '-y', '-qq', '--no-install-recommends', ...packages])
    : update;
  if (!install.ok && missingTools().length > 0) {
    console.error(install.output.trimEnd().split('\n').slice(-15).join('\n'));
    fail(`${who} need ${what}: installing failed (above); run '${command}'`);
  }
  const still = missingTools();
  if (still.length > 0) {
    fail(`${who} need ${still.join(', ')}: still missing after installing ${packages.join(' ')}`);
  }
}

const ROOT = join(import.meta.dirname, '..', '..');
const UI = join(ROOT, 'ui');
/** What the dashboard's build is made from: a newer one of these makes ui/dist stale. */
const UI_SOURCES = [join(UI, 'src'), join(UI, 'index.html'), join(UI, 'vite.config.ts')];

/** The newest modification time of a file at or under `path` (0 when there is none). */
function newestUnder(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce((newest, name) => Math.max(newest, newestUnder(join(path, name))), stat.mtimeMs);
}

/** `npm run build:ui` when ui/dist/index.html is missing or older than a source of the dashboard. */
function buildDashboard(who: string): void {
  if (!existsSync(join(UI, 'index.html'))) return;
  const built = join(UI, 'dist', 'index.html');
  const builtAt = existsSync(built) ? statSync(built).mtimeMs : 0;
  if (builtAt > 0 && builtAt >= Math.max(...UI_SOURCES.map(newestUnder))) return;
  console.log(`${who}: building the dashboard (npm run build:ui; ${builtAt ? 'ui/ changed' : 'no ui/dist'})`);
  const build = run(['npm', 'run', 'build:ui'], ROOT);
  if (!build.ok || !existsSync(built)) {
    console.error(build.output.trimEnd().split('\n').slice(-15).join('\n'));
    fail(`${who} need the dashboard built: 'npm run build:ui' failed (above)`);
  }
}
