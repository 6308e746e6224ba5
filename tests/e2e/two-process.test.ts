// End to end over two processes: the gateway and the core as separate children meeting over a real nats-server,
// driven through HTTP like curl would, watched on NATS like `nats sub 'overseer.evt.>'`, and read back by the CLI.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NatsBus } from '../../adapters/nats';
import { connectBus } from '../../adapters/nats';
import { run } from '../../cli/main';
import { natsServerAvailable } from '../helpers/nats-server';
import type { TwoProcessStack } from './stack';
import { E2E_NAMESPACE, startTwoProcessStack, waitForRequest } from './stack';

interface Submitted {
  id: string;
  decision: string;
  reasons: string[];
  status: string;
}
interface VmRow {
  cluster: string;
  vmid: number;
  name: string;
  node: string;
  status: string;
  state: string;
  production: boolean;
  tags: string[];
}

let stack: TwoProcessStack;
let watcher: NatsBus;
const events: { subject: string; payload: unknown }[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until an event on `subject` has been seen (NATS delivery is asynchronous). */
async function seen(subject: string, timeoutMs = 10_000): Promise<{ subject: string; payload: unknown }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = events.find((e) => e.subject === subject);
    if (hit) return hit;
    if (Date.now() > deadline) {
      const got = [...new Set(events.map((e) => e.subject))].join('\n  ');
      throw new Error(`no event on ${subject} within ${timeoutMs} ms; saw:\n  ${got}`);
    }
    await sleep(50);
  }
}

describe.runIf(natsServerAvailable)('two processes', () => {
  beforeAll(async () => {
    stack = await startTwoProcessStack();
    watcher = await connectBus({ servers: stack.nats.url, name: 'e2e-watcher', namespace: E2E_NAMESPACE });
    watcher.subscribe('overseer.evt.>', (subject, payload) => events.push({ subject, payload }));
    await watcher.flush();
  }, 60_000);

  afterAll(async () => {
    await watcher?.close();
    await stack?.stop();
  }, 30_000);

  it('two processes - destroy of a production VM: denied, forced it awaits a second admin, who approves it', async () => {
    const denied = await stack.api<Submitted>('POST', '/v1/requests', {
      body: { action: 'destroy', target: 'lab/114' },
    });
    expect(denied.status).toBe(201);
    expect(denied.body.decision).toBe('denied');
    expect(denied.body.status).toBe('denied');
    expect(denied.body.reasons).toEqual(['VM lab/114 (minecraft) is production: destroy needs force']);
    expect(denied.headers.get('location')).toBe(`/v1/requests/${denied.body.id}`);

    const forced = await stack.api<Submitted>('POST', '/v1/requests', {
      body: { action: 'destroy', target: 'lab/114', force: true },
    });
    expect(forced.status).toBe(201);
    expect(forced.body.decision).toBe('awaiting_approval');
    expect(forced.body.status).toBe('awaiting_approval');
    expect(forced.body.reasons.join(' ')).toMatch(/second person's approval/);

    // The requester's own approval is refused.
    const self = await stack.api<{ error: { code: string; message: string } }>(
      'POST',
      `/v1/requests/${forced.body.id}/approve`,
    );
    expect(self.status).toBe(403);
    expect(self.body.error.message).toMatch(/cannot approve their own request/);
    expect((await stack.api<{ status: string }>('GET', `/v1/requests/${forced.body.id}`)).body.status).toBe(
      'awaiting_approval',
    );

    // A second admin approves.
    const bob = await stack.api<{ token: string; role: string }>('POST', '/v1/tokens', {
      body: { name: 'bob', role: 'admin' },
    });
    expect(bob.status).toBe(201);
    expect(bob.body.role).toBe('admin');
    const approved = await stack.api<{ status: string }>('POST', `/v1/requests/${forced.body.id}/approve`, {
      token: bob.body.token,
    });
    expect(approved.status).toBe(200);

    const done = await waitForRequest(stack, forced.body.id);
    expect(done.status).toBe('completed');
    expect(done.history.map((h) => h.status)).toEqual(
      expect.arrayContaining(['awaiting_approval', 'approved', 'executing', 'completed']),
    );
    // VM 114 is gone from the core's view (at once, or after the next sync).
    const deadline = Date.now() + 15_000;
    let vms = await stack.api<{ items: VmRow[] }>('GET', '/v1/vms');
    while (vms.body.items.some((v) => v.vmid === 114) && Date.now() < deadline) {
      await stack.api('POST', '/v1/sync');
      await sleep(250);
      vms = await stack.api<{ items: VmRow[] }>('GET', '/v1/vms');
    }
    expect(vms.body.items.map((v) => v.vmid)).not.toContain(114);
    expect((await stack.api('GET', '/v1/vms/lab/114')).status).toBe(404);

    // Every decision and state change was on NATS.
    expect((await seen(`overseer.evt.req.${denied.body.id}.denied`)).payload).toMatchObject({
      id: denied.body.id,
      action: 'destroy',
      decision: 'denied',
      reasons: denied.body.reasons,
    });
    await seen(`overseer.evt.req.${forced.body.id}.awaiting_approval`);
    await seen(`overseer.evt.req.${forced.body.id}.approved`);
    await seen(`overseer.evt.req.${forced.body.id}.executing`);
    expect((await seen(`overseer.evt.req.${forced.body.id}.completed`)).payload).toMatchObject({
      id: forced.body.id,
      status: 'completed',
    });
    await seen('overseer.evt.vm.lab.114.state');
  }, 60_000);

  it('two processes - stop of a non-production VM is approved at once, executed, and the VM is stopped', async () => {
    const before = await stack.api<VmRow>('GET', '/v1/vms/lab/101');
    expect(before.body).toMatchObject({ status: 'running', state: 'running', production: false });

    const stop = await stack.api<Submitted>('POST', '/v1/requests', { body: { action: 'stop', target: 'lab/101' } });
    expect(stop.status).toBe(201);
    expect(stop.body.decision).toBe('approved');
    expect(stop.body.reasons).toEqual([]);

    const done = await waitForRequest(stack, stop.body.id);
    expect(done.status).toBe('completed');
    const after = await stack.api<VmRow>('GET', '/v1/vms/lab/101');
    expect(after.body).toMatchObject({ status: 'stopped', state: 'stopped' });

    await seen(`overseer.evt.req.${stop.body.id}.approved`);
    await seen(`overseer.evt.req.${stop.body.id}.completed`);
    const states = events
      .filter((e) => e.subject === 'overseer.evt.vm.lab.101.state')
      .map((e) => e.payload as { from: string; to: string });
    expect(states.length).toBeGreaterThan(0);
    expect(states.at(-1)?.to).toBe('stopped');
  }, 60_000);

  it('two processes - the CLI sees the same VMs as a plain HTTP client', async () => {
    let stdout = '';
    let stderr = '';
    const code = await run(
      ['vms', '--json'],
      { OVERSEER_URL: stack.url, OVERSEER_TOKEN: stack.adminToken },
      {
        stdout: (t) => {
          stdout += t;
        },
        stderr: (t) => {
          stderr += t;
        },
      },
    );
    const http = await stack.api<{ items: VmRow[]; total: number }>('GET', '/v1/vms');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const cli = JSON.parse(stdout) as { items: VmRow[]; total: number };
    // Usage figures (cpu, mem, uptime) move with every sync: compare what identifies and describes each VM.
    const stable = (v: VmRow) => ({
      vm: `${v.cluster}/${v.vmid}`,
      name: v.name,
      node: v.node,
      status: v.status,
      state: v.state,
      production: v.production,
      tags: v.tags,
    });
    expect(cli.total).toBe(http.body.total);
    expect(cli.items.map(stable)).toEqual(http.body.items.map(stable));
    expect(cli.items.map(stable)).toContainEqual(expect.objectContaining({ vm: 'lab/101', status: 'stopped' }));
  }, 30_000);
});
