// The integrity check the health loop runs (state/quick-check.ts): a file is checked by a worker thread on its own
// read-only connection, so the main thread keeps answering; a small file or an in-memory database is checked in
// place.
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { quickCheck } from '../../state/quick-check';

const dir = mkdtempSync(join(tmpdir(), 'overseer-quick-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fileDb(name: string, rows: number): Database.Database {
  const db = new Database(join(dir, name));
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT); CREATE INDEX t_v ON t (v)');
  const put = db.prepare('INSERT INTO t (v) VALUES (?)');
  db.transaction(() => {
    for (let i = 0; i < rows; i++) put.run(`value-${i}-${'x'.repeat(50)}`);
  })();
  return db;
}

describe('quick check', () => {
  it('quick check - a sound file is ok, checked off the main thread while the main thread goes on', async () => {
    const db = fileDb('sound.db', 20_000);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const result = await quickCheck(db, 0);
    clearInterval(timer);
    expect(result).toBe('ok');
    expect(ticks).toBeGreaterThan(0);
    db.close();
  });

  it('quick check - an in-memory database is checked in place', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    expect(await quickCheck(db)).toBe('ok');
    db.close();
  });

  it('quick check - a damaged file is not ok', async () => {
    const db = fileDb('damaged.db', 5_000);
    db.pragma('wal_checkpoint(TRUNCATE)');
    // Overwrite a page in the middle of the table's b-tree (page 4 of 4 KiB pages) with garbage.
    const fd = openSync(join(dir, 'damaged.db'), 'r+');
    writeSync(fd, Buffer.alloc(4096, 0xa5), 0, 4096, 3 * 4096);
    closeSync(fd);
    const result = await quickCheck(db, 0).catch((error: Error) => `error: ${error.message}`);
    expect(result).not.toBe('ok');
    db.close();
  });

  it('quick check - a small file is checked in place, with no worker', async () => {
    const db = fileDb('small.db', 100);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 0);
    const result = await quickCheck(db);
    clearInterval(timer);
    expect(result).toBe('ok');
    expect(ticks).toBe(0);
    db.close();
  });
});
