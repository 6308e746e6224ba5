// Wiring helper: a knowledge base from the `knowledge` config section, with the shipped runbooks, the
// configured extra runbook directories and `<dataDir>/runbooks` synced into it. Bad runbook files are logged.
import path from 'node:path';
import type { KnowledgeRepo } from '../../state/knowledge-repo';
import type { Clock } from '../clock';
import type { Log } from '../log';
import type { KnowledgeConfig } from './config';
import { KnowledgeBase } from './knowledge-base';
import { createLlmSummariser } from './llm-summariser';
import { loadRunbooks } from './runbook-loader';

export interface OpenKnowledgeBaseDeps {
  config: KnowledgeConfig;
  repo: KnowledgeRepo;
  clock: Clock;
  log: Log;
  /** `$OVERSEER_DATA_DIR`: its `runbooks` folder, if present, is read after config.runbookDirs. */
  dataDir?: string | undefined;
}

/** Loads the runbooks, syncs them into the repo and returns the ready knowledge base. */
export async function openKnowledgeBase(deps: OpenKnowledgeBaseDeps): Promise<KnowledgeBase> {
  const { config, repo, clock, log } = deps;
  const dirs = [...config.runbookDirs];
  if (deps.dataDir) dirs.push(path.join(deps.dataDir, 'runbooks'));
  const { runbooks, problems, overridden } = loadRunbooks(dirs);
  for (const problem of problems) log.warn(`knowledge: runbook skipped: ${problem.message}`);
  for (const o of overridden) log.info(`knowledge: runbook ${o.id} from ${o.by} replaces ${o.file}`);
  const knowledge = new KnowledgeBase({
    repo,
    clock,
    log,
    llm: config.llm ? createLlmSummariser(config.llm) : undefined,
    similarFailureThreshold: config.similarFailureThreshold,
    maxWarnings: config.maxWarnings,
  });
  await knowledge.load();
  await knowledge.syncRunbooks(runbooks);
  return knowledge;
}
