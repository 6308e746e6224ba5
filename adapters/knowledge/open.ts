// Wiring helper: a knowledge base from the `knowledge` config section, with the shipped runbooks, the
// configured extra runbook directories and `<dataDir>/runbooks` synced into it. Bad runbook files are logged.
import path from 'node:path';
import type { KnowledgeRepo } from '../../state/knowledge-repo';
import type { Clock } from '../clock';
import type { Log } from '../log';
import type { KnowledgeConfig } from './config';
import { KnowledgeBase } from './knowledge-base';
import { loadLlmSummariser, type ModuleImporter } from './llm-summariser';
import { loadRunbooks } from './runbook-loader';

export interface OpenKnowledgeBaseDeps {
  config: KnowledgeConfig;
  repo: KnowledgeRepo;
  clock: Clock;
  log: Log;
  /** `$OVERSEER_DATA_DIR`: its `runbooks` folder, if present, is read after config.runbookDirs. */
  dataDir?: string | undefined;
  /** How the summariser's package is imported (tests). */
  importer?: ModuleImporter | undefined;
}

/** The runbook directories read after the shipped ones: config.runbookDirs, then `<dataDir>/runbooks`. */
export function runbookDirs(config: KnowledgeConfig, dataDir: string | undefined): string[] {
  const dirs = [...config.runbookDirs];
  if (dataDir) dirs.push(path.join(dataDir, 'runbooks'));
  return dirs;
}

/**
 * Loads the runbooks, syncs them into the repo and returns the ready knowledge base. With `knowledge.llm`
 * configured, rejects with SummariserUnavailableError (naming the install command) when its package is missing.
 */
export async function openKnowledgeBase(deps: OpenKnowledgeBaseDeps): Promise<KnowledgeBase> {
  const { config, repo, clock, log } = deps;
  const llm = config.llm ? await loadLlmSummariser(config.llm, deps.importer) : undefined;
  const { runbooks, problems, overridden } = loadRunbooks(runbookDirs(config, deps.dataDir));
  for (const problem of problems) log.warn(`knowledge: runbook skipped: ${problem.message}`);
  for (const o of overridden) log.info(`knowledge: runbook ${o.id} from ${o.by} replaces ${o.file}`);
  log.info(`knowledge: ${runbooks.length} runbooks loaded`);
  const knowledge = new KnowledgeBase({
    repo,
    clock,
    log,
    llm,
    similarFailureThreshold: config.similarFailureThreshold,
    maxWarnings: config.maxWarnings,
  });
  await knowledge.load();
  await knowledge.syncRunbooks(runbooks);
  return knowledge;
}
