// Shared set-up of the knowledge tests: a knowledge base on a real SQLite temp file, on a simulated clock.
import fs from 'node:fs';
import path from 'node:path';
import { SimulatedClock } from '../../adapters/clock';
import { loadRunbooks } from '../../adapters/knowledge';
import { KnowledgeBase, type KnowledgeBaseOptions } from '../../adapters/knowledge/knowledge-base';
import { createMemoryLog } from '../../adapters/log';
import type { StateStore } from '../../state';
import { openStore, tempDir } from '../state/helpers';

export { dbPath, openStore, requestSpec, tempDir, vmInfo } from '../state/helpers';

export interface KbFixture {
  kb: KnowledgeBase;
  store: StateStore;
  clock: SimulatedClock;
  log: ReturnType<typeof createMemoryLog>;
}

/** A knowledge base on a fresh store (or `store`), with the shipped runbooks synced. */
export async function openKb(
  options: Partial<KnowledgeBaseOptions> & { store?: StateStore; runbooks?: boolean } = {},
): Promise<KbFixture> {
  const { store = openStore(), runbooks = true, ...rest } = options;
  const clock = new SimulatedClock(Date.UTC(2025, 0, 1));
  const log = createMemoryLog(clock);
  const kb = new KnowledgeBase({ repo: store.knowledge, clock, log, ...rest });
  if (runbooks) await kb.syncRunbooks(loadRunbooks([]).runbooks);
  return { kb, store, clock, log };
}

/** Writes `files` (name -> text) into a new temp dir and returns it. */
export function runbookDir(files: Record<string, string>): string {
  const dir = tempDir();
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

/** A runbook file's text from front-matter lines and a body. */
export function runbookText(frontMatter: string[], body = '# Runbook\n\nSome advice.'): string {
  return ['---', ...frontMatter, '---', body].join('\n');
}
