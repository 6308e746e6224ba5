// The audit chain walked in slices (start-up and periodic verification): it yields to the event loop between slices
// and finds what a walk in one go finds, with the same sentence, wherever in the chain the damage is.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { AUDIT_SLICE_ROWS, memoryCheckpointSink, verifyAudit } from '../../actors/audit-checkpoint';
import { AuditStartWalk, START_AFTER_SERVING_MS } from '../../actors/audit-start-walk';
import { auditKeyPath, loadOrCreateAuditKey } from '../../actors/audit-startup';
import { SimulatedClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import type { AuditVerification } from '../../state';
import { StateStore, TABLES, triggerName } from '../../state';

const A = TABLES.audit;
const ROWS = AUDIT_SLICE_ROWS * 3 + 17;
const dirs: string[] = [];
const stores: StateStore[] = [];

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A keyed store with `ROWS` audit rows. */
function chain(): StateStore {
  const dir = mkdtempSync(join(tmpdir(), 'overseer-audit-slices-'));
  dirs.push(dir);
  const { key } = loadOrCreateAuditKey(auditKeyPath(dir));
  const store = StateStore.open(join(dir, 'overseer.db'), { auditKey: key, now: () => 500_000 });
  stores.push(store);
  for (let i = 1; i <= ROWS; i++) {
    store.audit.append({ at: 1_000 + i, actor: 'alice', kind: 'token.created', data: { n: i } });
  }
  return store;
}

/** A start-up walk of `store`'s chain on a simulated clock, its checkpoints in memory, what it reports kept. */
function startWalk(store: StateStore) {
  const clock = new SimulatedClock(0);
  const sink = memoryCheckpointSink();
  const reported: AuditVerification[] = [];
  const walk = new AuditStartWalk({
    store,
    sink,
    clock,
    log: createMemoryLog(clock),
    checkpointIntervalMs: 60_000,
    report: (v) => reported.push(v),
  });
  return { clock, sink, reported, walk };
}

function tamper(store: StateStore, sql: string, ...params: unknown[]): void {
  store.db.exec(`DROP TRIGGER ${triggerName(A, 'no_update')}; DROP TRIGGER ${triggerName(A, 'no_delete')};`);
  store.db.prepare(sql).run(...params);
}

describe('audit slices', () => {
  test('security - an intact chain walked in slices counts every row and lets other work run between slices', async () => {
    const store = chain();
    let turns = 0;
    let walking = true;
    const tick = () => {
      if (!walking) return;
      turns++;
      setImmediate(tick);
    };
    setImmediate(tick);
    const verification = await verifyAudit(store, memoryCheckpointSink());
    walking = false;
    expect(verification).toMatchObject({ ok: true, rows: store.audit.lastRow().seq });
    expect(turns).toBeGreaterThanOrEqual(3);
  });

  test.each([
    ['in the first slice', 5],
    ['in a middle slice', AUDIT_SLICE_ROWS + 3],
    ['in the last rows', ROWS - 2],
  ])('security - a row edited %s is found as a walk in one go finds it', async (_where, seq) => {
    const store = chain();
    tamper(store, `UPDATE ${A} SET actor = 'mallory' WHERE seq = ?`, seq);
    const whole = store.audit.verify();
    expect(whole.problem).toMatchObject({ row: seq, kind: 'edited' });
    const sliced = await verifyAudit(store, undefined);
    expect(sliced.problem).toEqual(whole.problem);
    expect(sliced.ok).toBe(false);
  });

  test('security - rows deleted from the middle are found in slices with the same sentence', async () => {
    const store = chain();
    tamper(store, `DELETE FROM ${A} WHERE seq BETWEEN ? AND ?`, AUDIT_SLICE_ROWS * 2, AUDIT_SLICE_ROWS * 2 + 4);
    const whole = store.audit.verify();
    expect(whole.problem).toMatchObject({ row: AUDIT_SLICE_ROWS * 2, kind: 'deleted' });
    expect((await verifyAudit(store, undefined)).problem).toEqual(whole.problem);
  });

  test('security - the start-up walk begins a moment after the core serves, reports a broken chain, then checkpoints', async () => {
    const store = chain();
    tamper(store, `UPDATE ${A} SET kind = 'token.revoked' WHERE seq = ?`, 9);
    const { clock, sink, reported, walk } = startWalk(store);
    walk.start();
    await clock.advanceAsync(START_AFTER_SERVING_MS - 1);
    expect(reported).toHaveLength(0);
    await clock.advanceAsync(1);
    for (let i = 0; i < 50 && (reported.length === 0 || sink.stored.size === 0); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(reported).toHaveLength(1);
    expect(reported[0]?.problem).toMatchObject({ row: 9, kind: 'edited' });
    await walk.stop();
    expect([...sink.stored.values()][0]?.at(-1)).toMatchObject({ broken: { row: 9, kind: 'edited' } });
  });

  test('security - a start-up walk stopped before it begins walks nothing and stores no checkpoint', async () => {
    const store = chain();
    const { clock, sink, walk } = startWalk(store);
    walk.start();
    await walk.stop();
    await clock.advanceAsync(START_AFTER_SERVING_MS * 2);
    expect(sink.stored.size).toBe(0);
  });
});
