// Runbooks added, changed or removed while Overseer runs are picked up without a restart: the runbook directories
// (the shipped one, config.runbookDirs, `$OVERSEER_DATA_DIR/runbooks`) are looked at every few seconds through the
// injected clock — names, sizes and modification times only — and when anything differs the runbooks are loaded
// again and synced into the knowledge base. A directory that appears later is picked up too.
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Clock, TimerHandle } from '../clock';
import type { Log } from '../log';
import type { KnowledgeBase, RunbookSyncReport } from './knowledge-base';
import { isRunbookFileName, loadRunbooks, SHIPPED_RUNBOOK_DIR } from './runbook-loader';

/** How often the directories are looked at. */
export const DEFAULT_RUNBOOK_RESCAN_MS = 5_000;

export interface RunbookWatchDeps {
  knowledge: Pick<KnowledgeBase, 'syncRunbooks'>;
  /** The directories after the shipped one (see runbookDirs in open.ts). */
  dirs: readonly string[];
  clock: Clock;
  log: Pick<Log, 'info' | 'warn' | 'error'>;
  /** Default DEFAULT_RUNBOOK_RESCAN_MS. */
  intervalMs?: number | undefined;
}

export interface RunbookWatch {
  /** Looks now; resolves with the sync report when the files had changed, undefined when they had not. */
  check(): Promise<RunbookSyncReport | undefined>;
  stop(): void;
}

/** What the directories hold, as names, sizes and modification times: equal strings, nothing to reload. */
export function runbookFingerprint(dirs: readonly string[]): string {
  const parts: string[] = [];
  for (const dir of [SHIPPED_RUNBOOK_DIR, ...dirs]) {
    const resolved = path.resolve(dir);
    let names: string[];
    try {
      names = readdirSync(resolved, { withFileTypes: true })
        .filter((e) => e.isFile() && isRunbookFileName(e.name))
        .map((e) => e.name)
        .sort();
    } catch (err) {
      parts.push(`${resolved}!${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      continue;
    }
    for (const name of names) {
      try {
        const s = statSync(path.join(resolved, name));
        parts.push(`${resolved}/${name}:${s.size}:${s.mtimeMs}`);
      } catch (err) {
        parts.push(`${resolved}/${name}!${(err as NodeJS.ErrnoException).code ?? 'error'}`);
      }
    }
  }
  return parts.join('\n');
}

export function watchRunbooks(deps: RunbookWatchDeps): RunbookWatch {
  const { knowledge, dirs, clock, log } = deps;
  const intervalMs = deps.intervalMs ?? DEFAULT_RUNBOOK_RESCAN_MS;
  let last = runbookFingerprint(dirs);
  let reported = new Set<string>();
  let timer: TimerHandle | undefined;
  let stopped = false;
  let running: Promise<RunbookSyncReport | undefined> | undefined;

  const reload = async (): Promise<RunbookSyncReport | undefined> => {
    const now = runbookFingerprint(dirs);
    if (now === last) return undefined;
    last = now;
    const { runbooks, problems } = loadRunbooks(dirs);
    // A bad file is named once, not at every look.
    const seen = new Set(problems.map((p) => p.message));
    for (const message of seen) if (!reported.has(message)) log.warn(`knowledge: runbook skipped: ${message}`);
    reported = seen;
    const report = await knowledge.syncRunbooks(runbooks);
    const changed = [...report.added, ...report.updated, ...report.removed];
    if (changed.length > 0) {
      log.info(
        `knowledge: runbook files changed: ${[
          ...report.added.map((id) => `${id} added`),
          ...report.updated.map((id) => `${id} updated`),
          ...report.removed.map((id) => `${id} removed`),
        ].join(', ')}`,
      );
    }
    return report;
  };

  const check = (): Promise<RunbookSyncReport | undefined> => {
    // One look at a time: a slow sync is never overlapped by the next tick.
    running ??= reload().finally(() => {
      running = undefined;
    });
    return running;
  };

  const schedule = () => {
    if (stopped || intervalMs <= 0) return;
    timer = clock.setTimeout(() => {
      timer = undefined;
      check()
        .catch((err) => log.error('knowledge: runbooks not reloaded', err))
        .finally(schedule);
    }, intervalMs);
  };
  schedule();

  return {
    check,
    stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
