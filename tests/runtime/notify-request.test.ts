// A request that waits for a second person's approval is told through the notifier (the real one, its webhook
// channel's HTTP call recorded at fetch): once, with who asked, why and until when — not again after a restart —
// and its expiry with no one's word is told too. A denied or approved request tells no one.
import { afterEach, describe, expect, it } from 'vitest';
import { flushMicrotasks } from '../../adapters/clock';
import type { Notification, Notifier } from '../../adapters/notify';
import { createNotifier } from '../../adapters/notify';
import { demoInventory } from '../helpers/inventory';
import type { RuntimeHarness } from '../helpers/runtime';
import { createRuntime } from '../helpers/runtime';

const alice = { id: 'tok-alice', name: 'alice', role: 'admin' as const };

let rt: RuntimeHarness | undefined;
let notifiers: Notifier[] = [];
afterEach(async () => {
  rt?.close();
  rt = undefined;
  await Promise.all(notifiers.map((n) => n.close()));
  notifiers = [];
});

/** A runtime whose notifier's one webhook channel hands each body to `sent` (its receiver answers `status`). */
function runtimeTelling(sent: Notification[], status: { code: number } = { code: 200 }): RuntimeHarness {
  return createRuntime({
    config: { gate: { approvalTimeoutSeconds: 60 } },
    notifier: (deps) => {
      const fetch = async (_url: string | URL | Request, init?: RequestInit) => {
        sent.push(JSON.parse(String(init?.body)) as Notification);
        return new Response('ok', { status: status.code });
      };
      const notifier = createNotifier(
        { ...deps, fetch: fetch as typeof globalThis.fetch },
        { channels: [{ type: 'webhook', url: 'http://127.0.0.1:9/hook', secret: 'a-webhook-secret-of-some-length' }] },
      );
      notifiers.push(notifier);
      return notifier;
    },
  });
}

const flushAll = () => Promise.all(notifiers.map((n) => n.flush()));

describe('request notices', () => {
  it('notify - a request awaiting approval is told once (not again after a restart), and its expiry', async () => {
    const sent: Notification[] = [];
    rt = runtimeTelling(sent);
    rt.overseer.observe(demoInventory());
    const waiting = await rt.overseer.submit({
      action: 'destroy',
      target: { cluster: 'lab', vmid: 114 },
      force: true,
      requester: alice,
    });
    expect(waiting.decision).toBe('awaiting_approval');
    await flushAll();
    const id = waiting.requestId;
    expect(sent).toEqual([
      expect.objectContaining({
        key: `req:${id}:awaiting_approval`,
        severity: 'warning',
        title: 'request awaiting approval: destroy lab/114 (forced)',
        subject: `req:${id}`,
        data: expect.objectContaining({ requestId: id, requester: alice, expiresAt: Date.UTC(2026, 0, 1, 0, 1) }),
      }),
    ]);
    expect(sent[0]?.text).toMatch(
      new RegExp(
        `^alice asked for destroy lab/114 \\(forced\\): .*production.*\\. Another person may approve or deny it ` +
          `until 2026-01-01T00:01:00Z \\(overseer approve ${id}\\)\\.$`,
      ),
    );

    // A restart restores the waiting request: nobody is told again.
    rt.clock.advance(30_000);
    rt = rt.reopen();
    rt.overseer.restore();
    await rt.overseer.startRequests();
    await flushAll();
    expect(sent).toHaveLength(1);

    rt.clock.advance(30_000);
    await flushMicrotasks();
    expect(rt.store.requests.get(id)?.status).toBe('expired');
    await flushAll();
    expect(sent.slice(1)).toEqual([
      expect.objectContaining({
        key: `req:${id}:expired`,
        severity: 'info',
        title: 'request expired unapproved: destroy lab/114 (forced)',
        text: "No one approved or denied alice's destroy lab/114 (forced) by 2026-01-01T00:01:00Z; nothing was done.",
      }),
    ]);
  });

  it('notify - a denied or an approved request tells no one', async () => {
    const sent: Notification[] = [];
    rt = runtimeTelling(sent);
    rt.overseer.observe(demoInventory());
    const denied = await rt.overseer.submit({
      action: 'destroy',
      target: { cluster: 'lab', vmid: 114 },
      requester: alice,
    });
    expect(denied.decision).toBe('denied');
    const approved = await rt.overseer.submit({
      action: 'stop',
      target: { cluster: 'lab', vmid: 101 },
      requester: alice,
    });
    expect(approved.decision).toBe('approved');
    await flushAll();
    expect(sent).toEqual([]);
  });

  it('notify - health: a channel that gave up since its last delivery is a failing check, until one goes through', async () => {
    const sent: Notification[] = [];
    const receiver = { code: 400 };
    rt = runtimeTelling(sent, receiver);
    rt.overseer.observe(demoInventory());
    const check = () => rt?.overseer.health().checks.find((c) => c.name.startsWith('notify:'));
    expect(check()).toMatchObject({ ok: true, detail: 'webhook: sent 0, failed 0, queued 0' });
    const destroy = {
      action: 'destroy' as const,
      target: { cluster: 'lab', vmid: 114 },
      force: true,
      requester: alice,
    };
    const first = await rt.overseer.submit(destroy);
    await flushAll();
    expect(check()?.ok).toBe(false);
    expect(check()?.detail).toMatch(
      /^failing since 2026-01-01T00:00:00\.000Z: .*400.* \(sent 0, failed 1, queued 0\)$/,
    );
    expect(rt.overseer.health().ok).toBe(false);
    receiver.code = 200;
    expect(rt.overseer.cancel(first.requestId, alice).ok).toBe(true);
    expect((await rt.overseer.submit(destroy)).decision).toBe('awaiting_approval');
    await flushAll();
    expect(check()).toMatchObject({ ok: true, detail: 'webhook: sent 1, failed 1, queued 0' });
  });
});
