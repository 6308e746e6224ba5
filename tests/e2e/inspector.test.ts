// OVERSEER_INSPECT: `serve --role all` in this process streams @statelyai/inspect messages to a WebSocket
// inspector — here a plain `ws` server on 127.0.0.1 that records what it receives.
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { serve } from '../../actors/main';
import { findFreePort } from '../../adapters/nats';
import type { TestNatsServer } from '../helpers/nats-server';
import { natsServerAvailable, startNatsServer } from '../helpers/nats-server';

interface InspectMessage {
  type: string;
  name?: string;
  sessionId?: string;
  rootId?: string;
  snapshot?: { value?: unknown; status?: string };
  event?: { type?: string };
}

let nats: TestNatsServer;
let wss: WebSocketServer;
let dataDir: string;
let stop: (() => Promise<void>) | undefined;
const received: InspectMessage[] = [];
const malformed: string[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > deadline) {
      const types = [...new Set(received.map((m) => `${m.type} ${m.name ?? ''}`))].slice(0, 40).join('\n  ');
      throw new Error(`${what}: not within ${timeoutMs} ms (${received.length} messages):\n  ${types}`);
    }
    await sleep(50);
  }
}

describe.runIf(natsServerAvailable)('inspector', () => {
  beforeAll(async () => {
    nats = await startNatsServer();
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    wss.on('connection', (socket) => {
      socket.on('message', (data) => {
        const text = data.toString();
        try {
          received.push(JSON.parse(text) as InspectMessage);
        } catch {
          malformed.push(text.slice(0, 200));
        }
      });
    });
    dataDir = mkdtempSync(join(tmpdir(), 'overseer-inspect-'));
    const { port } = wss.address() as AddressInfo;
    stop = await serve(['--role', 'all'], {
      OVERSEER_DATA_DIR: dataDir,
      NATS_URL: nats.url,
      OVERSEER_PORT: String(await findFreePort()),
      OVERSEER_INSPECT: `ws://127.0.0.1:${port}`,
    });
  }, 60_000);

  afterAll(async () => {
    await stop?.();
    for (const client of wss?.clients ?? []) client.terminate();
    await new Promise<void>((resolve) => (wss ? wss.close(() => resolve()) : resolve()));
    await nats?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  }, 30_000);

  it('inspector - the WebSocket inspector receives actor, snapshot and event messages for the root and VM actors', async () => {
    const actorsNamed = (test: (name: string) => boolean) =>
      received.filter((m) => m.type === '@xstate.actor' && m.name !== undefined && test(m.name));
    await until('the overseer root actor', () => actorsNamed((n) => n === 'overseer').length > 0);
    await until('VM actors of the demo cluster', () => actorsNamed((n) => n.startsWith('vm:lab/')).length >= 16);

    const root = actorsNamed((n) => n === 'overseer')[0]!;
    const vm101 = actorsNamed((n) => n === 'vm:lab/101')[0]!;
    expect(root.sessionId).toEqual(expect.any(String));
    expect(vm101.sessionId).toEqual(expect.any(String));
    // The root's loops are its children: registered under the root's session.
    expect(
      received.some((m) => m.type === '@xstate.actor' && m.rootId === root.sessionId && m.name !== 'overseer'),
    ).toBe(true);

    // Snapshots and events for those same actors (a VM is put in its state by the sync's events).
    await until(
      'snapshots of the root and a VM actor',
      () =>
        received.some((m) => m.type === '@xstate.snapshot' && m.sessionId === root.sessionId) &&
        received.some((m) => m.type === '@xstate.snapshot' && m.sessionId === vm101.sessionId),
    );
    await until('events sent to a VM actor', () =>
      received.some((m) => m.type === '@xstate.event' && m.sessionId === vm101.sessionId),
    );
    const vmSnapshot = received.findLast((m) => m.type === '@xstate.snapshot' && m.sessionId === vm101.sessionId);
    expect(vmSnapshot?.snapshot?.value).toBe('running');
    expect(malformed).toEqual([]);
  }, 30_000);
});
