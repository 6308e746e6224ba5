// The CLI without rough edges: --help everywhere, bad command lines answered in its own words with the usage
// line, errors as JSON with --json, abbreviated request ids, unknown filter values refused, a deploy's new VMID,
// no doubled words, paged lists.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../actors/config';
import { serveCore } from '../../actors/core-service';
import { createMemoryBus } from '../../adapters/nats/memory-bus';
import { COMMANDS } from '../../cli/commands';
import { EXIT, run } from '../../cli/main';
import { startGateway } from '../../gateway';
import { createCoreClient } from '../../protocol';
import { createSimStack } from '../helpers/sim-stack';
import type { CliHarness } from './setup';
import { startHarness } from './setup';

let h: CliHarness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('cli help', () => {
  it('cli help - every command and subcommand answers --help and -h with its usage, exit 0, without a token', async () => {
    for (const command of COMMANDS) {
      for (const flag of ['--help', '-h']) {
        const argv = [...command.name.split(' '), flag];
        const res = await h.cli(argv, { token: null, env: { OVERSEER_DATA_DIR: '/nonexistent' } });
        expect(res.code, argv.join(' ')).toBe(EXIT.ok);
        expect(res.stdout, argv.join(' ')).toMatch(new RegExp(`^Usage: overseer ${command.name}\\b`));
        expect(res.stderr, argv.join(' ')).toBe('');
      }
    }
    // Help wins over everything else on the line, even a bad option.
    expect((await h.cli(['destroy', 'lab/114', '--forse', '--help'])).code).toBe(EXIT.ok);
  });

  it('cli help - a group of subcommands (token) lists them for --help and help; alone it is a usage error', async () => {
    for (const argv of [
      ['token', '--help'],
      ['token', '-h'],
      ['help', 'token'],
    ]) {
      const res = await h.cli(argv);
      expect(res.code, argv.join(' ')).toBe(EXIT.ok);
      for (const sub of ['token create', 'token list', 'token revoke']) expect(res.stdout).toContain(sub);
    }
    const alone = await h.cli(['token']);
    expect(alone.code).toBe(EXIT.usage);
    expect(alone.stderr).toMatch(/^overseer: 'token' needs a command\nUsage: overseer token <create\|list\|revoke/);
    const typo = await h.cli(['token', 'craete']);
    expect(typo.stderr).toMatch(/^overseer: unknown command 'token craete' \(did you mean 'token create'\?\)/);
    // A command that has subcommands lists them too.
    expect((await h.cli(['audit', '--help'])).stdout).toMatch(/Subcommands:\n\s+audit verify/);
    expect((await h.cli(['help', 'audit', 'verify'])).stdout).toMatch(/^Usage: overseer audit verify/);
    // serve is a command like the others (its own help is served without starting anything).
    expect((await h.cli(['serve', '--help'])).stdout).toMatch(/^Usage: overseer serve \[--role all\|core\|gateway\]\n/);
  });
});

describe('cli usage words', () => {
  it('cli usage - an unknown option is answered in the CLI’s words with the usage line, not node’s', async () => {
    const res = await h.cli(['destroy', 'lab/114', '--forse'], { token: 'unused' });
    expect(res.code).toBe(EXIT.usage);
    expect(res.stderr).toBe(
      "overseer: unknown option '--forse' for 'destroy' (did you mean --force?)\n" +
        'Usage: overseer destroy <cluster>/<vmid|@selector> [--force] [--dry-run] [--wait] [--json]\n' +
        "('overseer destroy --help' for its options)\n",
    );
    const missing = await h.cli(['deploy', 'lab', '--name'], { token: 'unused' });
    expect(missing.stderr).toMatch(/^overseer: --name needs a value\nUsage: overseer deploy <cluster> --template/);
    const valued = await h.cli(['stop', 'lab/101', '--force=yes'], { token: 'unused' });
    expect(valued.stderr).toMatch(/^overseer: --force takes no value\nUsage: overseer stop /);
    const dashed = await h.cli(['vms', '--limit', '-5'], { token: 'unused' });
    expect(dashed.stderr).toMatch(
      /^overseer: --limit needs a value; one that starts with '-' is written --limit=<value>\nUsage: overseer vms /,
    );
    const extra = await h.cli(['vms', 'lab'], { token: 'unused' });
    expect(extra.stderr).toMatch(
      /^overseer: 'vms' takes 0 arguments, got 1 \(unexpected 'lab'\)\nUsage: overseer vms /,
    );
    for (const r of [res, missing, valued, dashed, extra])
      expect(r.stderr).not.toMatch(/positional argument|ERR_PARSE/);
  });
});

describe('cli --json errors', () => {
  it('cli json - with --json every error is a JSON object on stdout, with the same exit code', async () => {
    const usage = await h.cli(['destroy', 'lab/114', '--forse', '--json'], { token: 'unused' });
    expect(usage.code).toBe(EXIT.usage);
    expect(JSON.parse(usage.stdout)).toEqual({
      error: {
        code: 'usage',
        message: "unknown option '--forse' for 'destroy' (did you mean --force?)",
        exitCode: EXIT.usage,
        usage: expect.stringMatching(/^Usage: overseer destroy /),
      },
    });
    const missing = await h.cli(['vm', 'lab/999', '--json']);
    expect(missing.code).toBe(EXIT.notFound);
    expect(JSON.parse(missing.stdout)).toEqual({
      error: { code: 'not_found', message: 'no VM lab/999', exitCode: EXIT.notFound, status: 404 },
    });
    const refused = await h.cli(['vms', '--cluster', 'nope', '--json']);
    expect(JSON.parse(refused.stdout).error).toMatchObject({ code: 'invalid_input', field: 'cluster', status: 400 });
    let out = '';
    const unreachable = await run(
      ['status', '--json'],
      { OVERSEER_URL: 'http://127.0.0.1:1', OVERSEER_TOKEN: 'x' },
      {
        stdout: (t) => {
          out += t;
        },
        stderr: () => {},
      },
    );
    expect(unreachable).toBe(EXIT.unavailable);
    expect(JSON.parse(out).error).toMatchObject({ code: 'unavailable', exitCode: EXIT.unavailable });
    // Without --json, stdout stays empty on an error.
    expect((await h.cli(['vm', 'lab/999'])).stdout).toBe('');
  });
});

describe('cli requests', () => {
  it('cli requests - request ids may be abbreviated: an ambiguous prefix lists the candidates; none is 8', async () => {
    for (let i = 0; i < 11; i++) await h.cli(['start', 'lab/101']);
    const ambiguous = await h.cli(['request', 'r']);
    expect(ambiguous.code).toBe(EXIT.usage);
    expect(ambiguous.stderr).toMatch(/^overseer: request id 'r' is ambiguous: \d+ requests start with it; give more/);
    expect(ambiguous.stderr).toMatch(/^\s+ID\s+ACTION\s+TARGET\s+STATUS\s+SUBMITTED$/m);
    expect(ambiguous.stderr).toMatch(/\.\.\. and \d+ more/);
    // A full id that is also the prefix of others (r1, r10, r11) is that request.
    expect((await h.cli(['request', 'r1', '--json'])).stdout).toMatch(/"id": "r1"/);
    const none = await h.cli(['cancel', 'zz9']);
    expect(none.code).toBe(EXIT.notFound);
    expect(none.stderr).toBe('overseer: no request zz9 (no request id starts with it)\n');
  });

  it('cli requests - a deploy --wait prints the VMID it created; without --wait, how to learn it', async () => {
    const deploy = ['deploy', 'lab', '--template', '9000', '--node', 'pve1', '--name', 'web'];
    const waited = await h.cli([...deploy, '--wait', '--interval', '0']);
    expect(waited.code).toBe(EXIT.ok);
    expect(waited.stdout).toMatch(/\ncreated lab\/2\d\d\n$/);
    const queued = await h.cli(deploy);
    expect(queued.stderr).toMatch(/^the new VM's id is known once the request has run: overseer request r\d+ --wait$/m);
  });

  it('cli requests - decisions are not doubled: "denied", "awaiting approval", never "denied (denied)"', async () => {
    const denied = await h.cli(['destroy', 'lab/114']);
    expect(denied.stdout.split('\n')[0]).toMatch(/^request r\d+: denied$/);
    const waiting = await h.cli(['destroy', 'lab/114', '--force']);
    expect(waiting.stdout.split('\n')[0]).toMatch(/^request r\d+: awaiting approval$/);
    const approved = await h.cli(['start', 'lab/101']);
    expect(approved.stdout.split('\n')[0]).toMatch(/^request r\d+: approved \(queued\)$/);
    for (const r of [denied, waiting, approved]) expect(`${r.stdout}${r.stderr}`).not.toMatch(/\b(\w+) \(\1\)/);
  });

  it('cli requests - lists page: --limit and --offset, the total, and where the next page starts', async () => {
    const all = JSON.parse((await h.cli(['requests', '--json'])).stdout) as { items: { id: string }[]; total: number };
    expect(all.total).toBeGreaterThan(4);
    const page = await h.cli(['requests', '--limit', '2', '--offset', '1']);
    expect(page.stdout.trimEnd().split('\n')).toHaveLength(3);
    expect(page.stdout).toContain(all.items[1]!.id);
    expect(page.stderr).toBe(`(2 of ${all.total} requests shown; --offset 3 for more)\n`);
    const hosts = JSON.parse((await h.cli(['hosts', '--limit', '1', '--json'])).stdout);
    expect(hosts).toMatchObject({ total: 2, items: [{ node: 'pve1' }] });
    const tokens = JSON.parse((await h.cli(['token', 'list', '--limit', '1', '--offset', '1', '--json'])).stdout);
    expect(tokens.items).toHaveLength(1);
    expect(tokens.total).toBeGreaterThanOrEqual(4);
  });
});

/** The real core on the PVE simulator (with UUID request ids, as in production), a real gateway, the CLI in-process. */
async function startRealCore() {
  const stack = await createSimStack({ newId: () => randomUUID() });
  stack.overseer.start();
  await stack.settle();
  const bus = createMemoryBus();
  const { clock, overseer, store } = stack;
  const stop = serveCore({ bus, overseer, store, config: parseConfig({}), clock, startedAt: clock.now() });
  const gateway = await startGateway(
    { core: createCoreClient(bus), bus, rateLimit: false, log: { warn: () => {}, error: () => {} } },
    { port: 0, hostname: '127.0.0.1' },
  );
  const { token } = store.tokens.create('ada', 'admin', 'cli-test', clock.now());
  const cli = async (argv: string[]) => {
    let stdout = '';
    let stderr = '';
    const env = { OVERSEER_URL: gateway.url, OVERSEER_TOKEN: token };
    const io = {
      stdout: (t: string) => {
        stdout += t;
      },
      stderr: (t: string) => {
        stderr += t;
      },
    };
    const code = await run(argv, env, io);
    return { code, stdout, stderr };
  };
  const close = async () => {
    await gateway.close();
    stop();
    await bus.close();
    await stack.cleanup();
  };
  return { cli, close };
}

describe('cli against the real core', () => {
  let core: Awaited<ReturnType<typeof startRealCore>>;
  beforeAll(async () => {
    core = await startRealCore();
  });
  afterAll(() => core?.close());

  it('cli filters - an unknown cluster, node or VM state is an error naming it, not an empty table', async () => {
    const cluster = await core.cli(['vms', '--cluster', 'nope']);
    expect(cluster).toMatchObject({ code: EXIT.usage, stdout: '' });
    expect(cluster.stderr).toBe("overseer: no cluster 'nope' (clusters: lab)\n");
    const state = await core.cli(['vms', '--state', 'bogus']);
    expect(state.code).toBe(EXIT.usage);
    expect(state.stderr).toMatch(/^overseer: no VM state 'bogus' \(states: .*\brunning\b.*\bstopped\b/);
    const node = await core.cli(['vms', '--node', 'pve9']);
    expect(node.stderr).toMatch(/^overseer: no node 'pve9' \(nodes: pve1, pve2/);
    expect((await core.cli(['hosts', '--cluster', 'nope'])).code).toBe(EXIT.usage);
    // Known values still filter (and may match nothing).
    const running = await core.cli(['vms', '--cluster', 'lab', '--state', 'running', '--json']);
    expect(running.code).toBe(EXIT.ok);
    expect(JSON.parse(running.stdout).total).toBeGreaterThan(0);
    expect((await core.cli(['vms', '--state', 'destroying'])).code).toBe(EXIT.ok);
  });

  it('cli requests - a unique prefix of a request id works wherever an id does', async () => {
    // Production: it waits for a second person's approval.
    const submitted = JSON.parse((await core.cli(['destroy', 'lab/114', '--force', '--json'])).stdout) as {
      id: string;
    };
    expect(submitted.id.length).toBeGreaterThan(12);
    const prefix = submitted.id.slice(0, 8);
    const shown = await core.cli(['request', prefix, '--json']);
    expect(shown.code).toBe(EXIT.ok);
    expect(JSON.parse(shown.stdout).id).toBe(submitted.id);
    // The target has one shape in and out: the object the CLI sent is the object the request shows.
    expect(JSON.parse(shown.stdout).target).toEqual({ cluster: 'lab', vmid: 114 });
    const cancelled = await core.cli(['cancel', prefix, '--json']);
    expect(JSON.parse(cancelled.stdout)).toEqual({ id: submitted.id, status: 'cancelled' });
  });
});
