// Loads runbook files: the ones shipped with Overseer, then any extra directories (e.g. the operator's
// `$OVERSEER_DATA_DIR/runbooks`). A runbook in a later directory replaces a shipped one with the same id.
// A bad file is reported and skipped; loading never throws.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { RunbookError } from './errors';
import { parseRunbook, type Runbook } from './runbook';

/**
 * The directory of the runbooks shipped with Overseer. Spelled from the project root two folders up, so that it is
 * the same from this file and from the built bundle (dist/server/overseer.mjs, scripts/build-server.mjs).
 */
export const SHIPPED_RUNBOOK_DIR: string = fileURLToPath(new URL('../../adapters/knowledge/runbooks', import.meta.url));

export interface LoadRunbooksOptions {
  /** Read SHIPPED_RUNBOOK_DIR first. Default true. */
  includeShipped?: boolean;
}

export interface LoadRunbooksResult {
  /** Valid runbooks, one per id, ordered by id. */
  runbooks: Runbook[];
  /** Files (or directories) that could not be used, each naming the file and key at fault. */
  problems: RunbookError[];
  /** Runbooks replaced by one with the same id from a later directory: `{id, file, by}`. */
  overridden: { id: string; file: string; by: string }[];
}

/** A runbook file: `*.md`, but not README.md. */
export const isRunbookFileName = (name: string): boolean => name.endsWith('.md') && name.toLowerCase() !== 'readme.md';

const isMissing = (err: unknown): boolean => (err as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';

/** Reads every `*.md` (but README.md) in `dirs` (after the shipped ones, unless told not to). A missing directory is skipped. */
export function loadRunbooks(dirs: readonly string[], options: LoadRunbooksOptions = {}): LoadRunbooksResult {
  const all = options.includeShipped === false ? [...dirs] : [SHIPPED_RUNBOOK_DIR, ...dirs];
  const byId = new Map<string, Runbook>();
  const problems: RunbookError[] = [];
  const overridden: LoadRunbooksResult['overridden'] = [];
  const seenDirs = new Set<string>();
  for (const dir of all) {
    const resolved = path.resolve(dir);
    if (seenDirs.has(resolved)) continue;
    seenDirs.add(resolved);
    let names: string[];
    try {
      names = readdirSync(resolved, { withFileTypes: true })
        .filter((e) => e.isFile() && isRunbookFileName(e.name))
        .map((e) => e.name)
        .sort();
    } catch (cause) {
      if (!isMissing(cause)) {
        problems.push(
          new RunbookError(`cannot read the directory: ${(cause as Error).message}`, resolved, '(file)', { cause }),
        );
      }
      continue;
    }
    const idsInDir = new Map<string, string>();
    for (const name of names) {
      const file = path.join(resolved, name);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (cause) {
        problems.push(new RunbookError(`cannot read the file: ${(cause as Error).message}`, file, '(file)', { cause }));
        continue;
      }
      let runbook: Runbook;
      try {
        runbook = parseRunbook(text, file);
      } catch (err) {
        problems.push(
          err instanceof RunbookError ? err : new RunbookError(String(err), file, '(file)', { cause: err }),
        );
        continue;
      }
      const sameDir = idsInDir.get(runbook.id);
      if (sameDir) {
        problems.push(new RunbookError(`'${runbook.id}' is already used by ${sameDir}`, file, 'id'));
        continue;
      }
      idsInDir.set(runbook.id, file);
      const earlier = byId.get(runbook.id);
      if (earlier) overridden.push({ id: runbook.id, file: earlier.file, by: file });
      byId.set(runbook.id, runbook);
    }
  }
  const runbooks = [...byId.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { runbooks, problems, overridden };
}
