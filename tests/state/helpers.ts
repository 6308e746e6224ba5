import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { StateStore } from '../../state';

/** A fresh temp dir per call; every dir and store made in a test is removed after it. */
const dirs: string[] = [];
const stores: StateStore[] = [];

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'overseer-state-'));
  dirs.push(dir);
  return dir;
}

export function dbPath(name = 'overseer.db'): string {
  return path.join(tempDir(), name);
}

/** A StateStore on a new SQLite file, closed after the test. */
export function openStore(file = dbPath()): StateStore {
  const store = StateStore.open(file);
  stores.push(store);
  return store;
}

export { hostInfo, requestSpec, vmInfo } from '../machines/fixtures';
