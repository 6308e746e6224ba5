// The overseer CLI against a real gateway: tables, --json, exit codes, reasons on stderr, --wait, events.
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT, run } from '../../cli/main';
import { subjects } from '../../protocol';
import type { CliHarness } from './setup';
import { startHarness } from './setup';

let h: CliHarness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('cli reads', () => {
  it('cli - vms prints a table by default and JSON with --json', async () => {
    const table = await h.cli(['vms']);
    expect(table.code).toBe(EXIT.ok);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^VM\s+TYPE\s+NAME\s+NODE\s+STATUS\s+STATE\s+PROD\s+TAGS\s+LOCK\s+REQUEST$/);
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(/^lab\/114\s+vm\s+db\s+pve1\s+running\s+running\s+yes\s+prod/);
    const json = await h.cli(['vms', '--tag', 'web', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ total: 1, items: [{ cluster: 'lab', vmid: 102 }] });
  });

  it('cli - status, hosts, vm and requests read the gateway', async () => {
    const status = await h.cli(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^state:\s+running$/m);
    expect(status.stdout).toMatch(/^vms:\s+running 2, stopped 1$/m);
    const hosts = await h.cli(['hosts', '--json']);
    expect(JSON.parse(hosts.stdout).items).toHaveLength(2);
    const vm = await h.cli(['vm', 'lab/114']);
    expect(vm.stdout).toMatch(/^production:\s+true$/m);
    const requests = await h.cli(['requests', '--status', 'completed', '--json']);
    expect(requests.code).toBe(0);
    expect(JSON.parse(requests.stdout)).toHaveProperty('items');
  });

  it('cli - an unknown VM exits 8 with the reason on stderr', async () => {
    const res = await h.cli(['vm', 'lab/999']);
    expect(res).toMatchObject({ code: EXIT.notFound, stdout: '' });
    expect(res.stderr).toBe('overseer: no VM lab/999\n');
  });
});

describe('cli requests', () => {
  it('cli - an approved request exits 0 and shows the checks', async () => {
    const res = await h.cli(['start', 'lab/101']);
    expect(res.code).toBe(EXIT.ok);
    expect(res.stdout).toMatch(/^request r\d+: approved \(queued\)$/m);
    expect(res.stdout).toMatch(/^CHECK\s+OUTCOME\s+REASON$/m);
    expect(res.stderr).toBe('');
  });

  it('cli - a denied request exits 3 with the reason on stderr', async () => {
    const res = await h.cli(['destroy', 'lab/114']);
    expect(res.code).toBe(EXIT.denied);
    expect(res.stderr).toBe('denied: VM 114 is production: needs force\n');
    const json = await h.cli(['destroy', 'lab/114', '--json']);
    expect(json.code).toBe(EXIT.denied);
    expect(JSON.parse(json.stdout)).toMatchObject({
      decision: 'denied',
      reasons: ['VM 114 is production: needs force'],
    });
  });

  it('cli - the per-action role is the gate’s: an operator destroying is denied, not refused', async () => {
    const res = await h.cli(['destroy', 'lab/101'], { token: h.core.tokens.operator });
    expect(res.code).toBe(EXIT.denied);
    expect(res.stderr).toMatch(/needs the admin role/);
  });

  it('cli - destroy --force awaits approval (exit 5); the same token cannot approve (3), a second admin can (0)', async () => {
    const forced = await h.cli(['destroy', 'lab/114', '--force', '--json']);
    expect(forced.code).toBe(EXIT.awaitingApproval);
    const { id } = JSON.parse(forced.stdout);
    expect(forced.stderr).toMatch(/^awaiting approval: production: a second person must approve/);
    const self = await h.cli(['approve', id]);
    expect(self.code).toBe(EXIT.denied);
    expect(self.stderr).toMatch(/cannot approve their own request/);
    const other = await h.cli(['approve', id, '--wait'], { token: h.core.tokens.admin2 });
    expect(other.code).toBe(EXIT.ok);
    expect(other.stdout).toMatch(/^status:\s+completed$/m);
    expect(other.stderr).toMatch(/executing/);
    const again = await h.cli(['deny', id, '--reason', 'too late']);
    expect(again.code).toBe(EXIT.denied);
  });

  it('cli - --wait follows an approved request to completion (exit 0) and shows progress on stderr', async () => {
    const res = await h.cli(['stop', 'lab/101', '--wait', '--interval', '0']);
    expect(res.code).toBe(EXIT.ok);
    expect(res.stderr.split('\n').filter(Boolean)).toEqual([
      expect.stringMatching(/^request r\d+: approved$/),
      expect.stringMatching(/: executing$/),
      expect.stringMatching(/: task UPID:\S+ on pve1$/),
      expect.stringMatching(/: completed$/),
    ]);
    expect(res.stdout).toMatch(/^tasks:\s+UPID:/m);
  });

  it('cli - --wait on a request that fails exits 4 with the error on stderr', async () => {
    const res = await h.cli(['start', 'lab/102', '--wait', '--json']);
    expect(res.code).toBe(EXIT.failed);
    expect(res.stderr).toMatch(/^failed: task failed: VM 102 is locked \(backup\)$/m);
    expect(JSON.parse(res.stdout)).toMatchObject({ status: 'failed', error: 'task failed: VM 102 is locked (backup)' });
  });

  it('cli - a cancelled request exits 6 under --wait; cancel itself exits 0', async () => {
    const forced = await h.cli(['reboot', 'lab/114', '--force', '--json']);
    const { id } = JSON.parse(forced.stdout);
    expect((await h.cli(['cancel', id])).code).toBe(EXIT.ok);
    const waited = await h.cli(['request', id, '--wait']);
    expect(waited.code).toBe(EXIT.cancelled);
  });

  it('cli - deploy and snapshot send their parameters; each submission carries an Idempotency-Key', async () => {
    const before = h.core.submissions.length;
    const deploy = await h.cli([
      'deploy',
      'lab',
      '--template',
      '9000',
      '--node',
      'pve1',
      '--name',
      'web',
      '--count',
      '2',
    ]);
    expect(deploy.code).toBe(0);
    const snap = await h.cli(['snapshot', 'lab/101', '--name', 'before-upgrade']);
    expect(snap.code).toBe(0);
    const [d, s] = h.core.submissions.slice(before);
    expect(d).toMatchObject({
      action: 'deploy',
      target: { cluster: 'lab' },
      params: { template: 9000, node: 'pve1', name: 'web', count: 2 },
    });
    expect(s).toMatchObject({
      action: 'snapshot',
      target: { cluster: 'lab', vmid: 101 },
      params: { snapname: 'before-upgrade' },
    });
    expect(d!.idempotencyKey).toMatch(/^cli-/);
    expect(d!.idempotencyKey).not.toBe(s!.idempotencyKey);
  });

  it('cli - request <id> shows checks and history', async () => {
    const submitted = JSON.parse((await h.cli(['start', 'lab/101', '--json'])).stdout);
    const res = await h.cli(['request', submitted.id]);
    expect(res.stdout).toMatch(/^id:\s+r\d+$/m);
    expect(res.stdout).toMatch(/^AT\s+STATUS\s+BY\s+NOTE$/m);
    expect(res.stdout).toMatch(/^authorization\s+pass/m);
  });
});

describe('cli usage and errors', () => {
  it('cli - bad arguments exit 2 without calling the gateway', async () => {
    for (const argv of [
      ['destroy'],
      ['destroy', 'lab'],
      ['destroy', 'lab/114', '--forse'],
      ['deploy', 'lab', '--node', 'pve1', '--name', 'x'],
      ['deploy', 'lab', '--template', 'abc', '--node', 'pve1', '--name', 'x'],
      ['token', 'create', '--name', 'x', '--role', 'root'],
      ['requests', '--status', 'sleeping'],
      ['explode'],
      ['token'],
    ]) {
      const res = await h.cli(argv, { token: 'unused' });
      expect(res.code, argv.join(' ')).toBe(EXIT.usage);
      expect(res.stderr, argv.join(' ')).toMatch(/^overseer: /);
    }
  });

  it('cli - help lists the commands and the exit codes', async () => {
    const res = await h.cli(['help']);
    expect(res.code).toBe(0);
    for (const word of ['deploy', 'token create', 'events', 'Exit codes', 'OVERSEER_URL'])
      expect(res.stdout).toContain(word);
  });

  it('cli - no token, a bad token, a too-low role exit 7', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'overseer-cli-'));
    const none = await h.cli(['vms'], { token: null, env: { OVERSEER_DATA_DIR: dir } });
    expect(none.code).toBe(EXIT.auth);
    expect(none.stderr).toContain(join(dir, 'admin.token'));
    expect((await h.cli(['vms'], { token: 'ovs_wrong' })).code).toBe(EXIT.auth);
    const low = await h.cli(['token', 'list'], { token: h.core.tokens.operator });
    expect(low.code).toBe(EXIT.auth);
    expect(low.stderr).toMatch(/needs the admin role/);
  });

  it('cli - the admin token file is read when OVERSEER_TOKEN is unset', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'overseer-cli-'));
    await writeFile(join(dir, 'admin.token'), `${h.core.tokens.admin}\n`, { mode: 0o600 });
    const res = await h.cli(['token', 'list'], { token: null, env: { OVERSEER_DATA_DIR: dir } });
    expect(res.code).toBe(0);
  });

  it('cli - an unreachable gateway or a disconnected bus exits 9', async () => {
    const gone = await run(
      ['vms'],
      { OVERSEER_URL: 'http://127.0.0.1:1', OVERSEER_TOKEN: 'x' },
      { stdout: () => {}, stderr: () => {} },
    );
    expect(gone).toBe(EXIT.unavailable);
    h.bus.simulateDisconnect();
    try {
      const res = await h.cli(['vms']);
      expect(res.code).toBe(EXIT.unavailable);
      expect(res.stderr).toMatch(/retry after 5 s/);
    } finally {
      h.bus.simulateReconnect();
    }
  });
});

describe('cli tokens and events', () => {
  it('cli - token create prints the secret once; list shows it; revoke ends it', async () => {
    const created = await h.cli(['token', 'create', '--name', 'ci', '--role', 'operator']);
    expect(created.code).toBe(0);
    const secret = created.stdout.trim();
    expect(created.stderr).toMatch(/shown only this once/);
    expect((await h.cli(['vms'], { token: secret })).code).toBe(0);
    const list = await h.cli(['token', 'list', '--json']);
    const entry = JSON.parse(list.stdout).items.find((t: { name: string }) => t.name === 'ci');
    expect(entry).toMatchObject({ role: 'operator', createdBy: 'tok3' });
    expect(list.stdout).not.toContain(secret);
    expect((await h.cli(['token', 'revoke', entry.id])).code).toBe(0);
    expect((await h.cli(['vms'], { token: secret })).code).toBe(EXIT.auth);
    expect((await h.cli(['token', 'revoke', entry.id])).code).toBe(EXIT.notFound);
  });

  it('cli - events follows the stream until interrupted', async () => {
    const controller = new AbortController();
    let out = '';
    let err = '';
    const running = run(
      ['events', '--filter', 'overseer.evt.req.>'],
      { OVERSEER_URL: h.gateway.url, OVERSEER_TOKEN: h.core.tokens.observer },
      {
        stdout: (t) => {
          out += t;
          if (out.includes('r42')) controller.abort();
        },
        stderr: (t) => {
          err += t;
          if (t.startsWith('following')) {
            h.bus.publish(subjects.evtVm('lab', 101, 'stopped'), { vmid: 101 });
            h.bus.publish(subjects.evtReq('r42', 'approved'), { id: 'r42' });
          }
        },
        signal: controller.signal,
      },
    );
    expect(await running).toBe(EXIT.ok);
    expect(err).toMatch(/^following overseer\.evt\.req\.>$/m);
    expect(out).toBe('overseer.evt.req.r42.approved {"id":"r42"}\n');
  });

  it('cli - events with a bad filter exits 2', async () => {
    const res = await h.cli(['events', '--filter', 'overseer.req.>']);
    expect(res.code).toBe(EXIT.usage);
    expect(res.stderr).toMatch(/filter/);
  });
});

describe('cli --wait resilience', () => {
  it('cli - --wait gives up after --timeout with exit 1', async () => {
    const forced = JSON.parse((await h.cli(['shutdown', 'lab/114', '--force', '--json'])).stdout);
    const res = await h.cli(['request', forced.id, '--wait', '--timeout', '0.05', '--interval', '0.01']);
    expect(res.code).toBe(EXIT.error);
    expect(res.stderr).toMatch(/timed out waiting for request r\d+ \(still awaiting approval\)/);
  });

  it('cli - --wait keeps waiting while NATS is briefly away', async () => {
    const submitted = JSON.parse((await h.cli(['start', 'lab/101', '--json'])).stdout);
    let polls = 0;
    const res = await h.cli(['request', submitted.id, '--wait'], {
      io: {
        sleep: async () => {
          polls += 1;
          if (polls === 1) h.bus.simulateDisconnect();
          if (polls === 2) h.bus.simulateReconnect();
        },
      },
    });
    expect(res.code).toBe(EXIT.ok);
    expect(res.stderr).toMatch(/not connected.*still waiting/);
  });
});
