import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Child } from '../helpers/child';
import { runTs } from '../helpers/child';
import type { SimCluster } from '../helpers/sim-cluster';
import { startSimCluster } from '../helpers/sim-cluster';

const CHILD = join(import.meta.dirname, 'crash-child.ts');
const TERMINAL = new Set(['denied', 'completed', 'failed', 'cancelled', 'expired', 'nothing_to_do']);

interface Ready {
  ids: Record<string, string>;
  requests: Record<string, string>;
  actors: { vms: Record<string, string>; hosts: Record<string, string>; requests: Record<string, string> };
  audit: { seq: number; hash: string };
}
interface Inspected {
  restored: { vms: number; hosts: number; requests: number };
  actors: Ready['actors'];
  requests: Record<string, string>;
  audit: { ok: boolean; rows?: number; seq?: number; problem?: string };
  consistency: string[];
}

let cluster: SimCluster;
let dir: string;
let configPath: string;
let dbPath: string;

beforeAll(async () => {
  cluster = await startSimCluster({
    taskDurations: { qmstop: 5_000, qmshutdown: 5_000, qmsnapshot: 150, qmstart: 300 },
  });
  cluster.sim.faults.lockVm(113, 'snapshot');
  dir = mkdtempSync(join(tmpdir(), 'overseer-crash-'));
  configPath = join(dir, 'overseer.json');
  dbPath = join(dir, 'overseer.db');
  writeFileSync(
    configPath,
    JSON.stringify({
      clusters: [cluster.clusterConfig],
      execution: { perNodeConcurrency: 1 },
      loops: { syncIntervalSeconds: 1 },
    }),
  );
});

afterAll(async () => {
  await cluster?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function run<T>(mode: string, tag: string): Promise<{ child: Child; value: T }> {
  const child = runTs(CHILD, [mode, configPath, dbPath]);
  const value = await child.line<T>(tag, 60_000);
  return { child, value };
}

describe('crash', () => {
  it('crash - SIGKILL while holding many actors: a restart finds every actor, request and audit row as it was', async () => {
    const { child, value: ready } = await run<Ready>('populate', 'READY');
    // Let it keep writing for a random moment, then kill it mid-stream.
    await new Promise((r) => setTimeout(r, 30 + Math.floor(Math.random() * 200)));
    child.proc.kill('SIGKILL');
    expect(await child.exited).toBeNull();

    expect(ready.requests[ready.ids.deniedProduction as string]).toBe('denied');
    expect(ready.requests[ready.ids.awaiting as string]).toBe('awaiting_approval');
    expect(ready.requests[ready.ids.deniedLocked as string]).toBe('denied');
    expect(ready.requests[ready.ids.executing as string]).toBe('executing');
    expect(ready.requests[ready.ids.queued as string]).toBe('queued');
    expect(ready.requests[ready.ids.cancelled as string]).toBe('cancelled');
    expect(ready.requests[ready.ids.completes as string]).toBe('completed');
    expect(ready.requests[ready.ids.executingAfter as string]).toBe('executing');
    expect(new Set(Object.values(ready.actors.vms)).size).toBeGreaterThanOrEqual(4);

    const { child: inspector, value: state } = await run<Inspected>('inspect', 'STATE');
    await inspector.exited;

    // Nothing half-written: every request's row, history and snapshot agree, and the audit chain verifies.
    expect(state.consistency).toEqual([]);
    expect(state.audit.ok).toBe(true);
    expect(state.audit.rows).toBeGreaterThanOrEqual(ready.audit.seq);
    // Nothing lost: every request seen before the kill is there, those that had ended unchanged.
    for (const [id, status] of Object.entries(ready.requests)) {
      expect(state.requests[id], id).toBeDefined();
      if (TERMINAL.has(status) || status === 'awaiting_approval') expect(state.requests[id], id).toBe(status);
    }
    // Every unfinished request is back as an actor in its recorded state.
    const unfinished = Object.entries(state.requests).filter(([, s]) => !TERMINAL.has(s));
    expect(Object.keys(state.actors.requests).sort()).toEqual(unfinished.map(([id]) => id).sort());
    for (const [id, s] of unfinished) expect(state.actors.requests[id]).toBe(s);
    // VM and host actors are back in the states they had (those no request touched cannot have moved).
    const touched = new Set(['lab/100', 'lab/101', 'lab/103', 'lab/112']);
    for (const [key, s] of Object.entries(ready.actors.vms)) {
      if (!touched.has(key)) expect(state.actors.vms[key], key).toBe(s);
    }
    expect(state.actors.hosts).toEqual(ready.actors.hosts);
    expect(state.restored.vms).toBe(Object.keys(ready.actors.vms).length);

    // Resuming: the executing and queued requests finish, and the platform ran each operation exactly once.
    const { child: resumer, value: done } = await run<{ requests: Record<string, string>; audit: { ok: boolean } }>(
      'resume',
      'DONE',
    );
    await resumer.exited;
    for (const name of ['executing', 'queued', 'executingAfter', 'completes']) {
      expect(done.requests[ready.ids[name] as string], name).toBe('completed');
    }
    expect(done.audit.ok).toBe(true);
    const started = cluster.sim.oplog.filter((e) => e.result === 'started').map((e) => `${e.op} ${e.vmid}`);
    for (const op of ['stop 101', 'start 112', 'snapshot 103', 'shutdown 100']) {
      expect(
        started.filter((s) => s === op),
        op,
      ).toHaveLength(1);
    }
    expect(started.filter((s) => s.endsWith(' 114') || s === 'start 104' || s === 'start 113')).toEqual([]);
  }, 120_000);
});
