// WAL checkpoints off the main thread (state/wal-checkpointer.ts): the main connection stops checkpointing inside its
// commits, a worker copies the log into the file, and stopping gives the main connection its own checkpoints back.
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { WalCheckpointer } from '../../state/wal-checkpointer';

const dir = mkdtempSync(join(tmpdir(), 'overseer-wal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(probe: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('not within the time');
    await sleep(20);
  }
}

describe('wal checkpointer', () => {
  it('wal checkpointer - the log reaches the file from the worker while commits no longer checkpoint', async () => {
    const file = join(dir, 'background.db');
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
    const problems: string[] = [];
    const checkpointer = WalCheckpointer.start(db, { intervalMs: 50, onProblem: (m) => problems.push(m) });
    expect(checkpointer).toBeDefined();
    await until(() => db.pragma('wal_autocheckpoint', { simple: true }) === 0);
    const before = statSync(file).size;
    const put = db.prepare('INSERT INTO t (v) VALUES (?)');
    db.transaction(() => {
      for (let i = 0; i < 5_000; i++) put.run('x'.repeat(200));
    })();
    await until(() => statSync(file).size > before + 500_000);
    checkpointer?.stop();
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(1000);
    expect(problems).toEqual([]);
    db.close();
  });

  it('wal checkpointer - an in-memory database has none', () => {
    const db = new Database(':memory:');
    expect(WalCheckpointer.start(db)).toBeUndefined();
    db.close();
  });
});
