// The knowledge base: shipped and user runbooks, past incidents and failed requests, hybrid retrieval (BM25 +
// a local lexical hashing embedding, fused with RRF), and the gate's knowledge check.
export { type KnowledgeConfig, knowledgeConfigSchema } from './config';
export {
  describeParams,
  docId,
  documentText,
  type FailedRequestRecord,
  type IncidentRecord,
  requestSubject,
  type StoredRunbook,
} from './documents';
export { KnowledgeError, RunbookError, SummariserError, SummariserUnavailableError } from './errors';
export { type FrontMatter, type FrontMatterValue, parseFrontMatter } from './front-matter';
export {
  cosineSimilarity,
  DEFAULT_EMBEDDING_DIMENSIONS,
  fnv1a,
  HashingEmbeddings,
  type HashingEmbeddingsOptions,
} from './hashing-embeddings';
export { HybridIndex, type SearchOptions, type SearchResult } from './hybrid-index';
export {
  DEFAULT_MAX_WARNINGS,
  DEFAULT_SIMILAR_FAILURE_THRESHOLD,
  KNOWLEDGE_CHECK,
  KnowledgeBase,
  type KnowledgeBaseOptions,
  type LoadReport,
  type RunbookSyncReport,
} from './knowledge-base';
export {
  createLlmSummariser,
  type LlmConfig,
  loadLlmSummariser,
  type ModuleImporter,
  SUMMARISER_PACKAGE,
  type Summariser,
  summariserInstallCommand,
} from './llm-summariser';
export { type OpenKnowledgeBaseDeps, openKnowledgeBase, runbookDirs } from './open';
export { type FusedItem, RRF_K, reciprocalRankFusion } from './rrf';
export {
  describeRemediation,
  describeWhen,
  MATCHER_KEYS,
  type MatcherKey,
  parseRunbook,
  REMEDIATION_KINDS,
  type Remediation,
  type RemediationKind,
  RUNBOOK_RULES,
  type Runbook,
  type RunbookMatcher,
  type RunbookRule,
} from './runbook';
export {
  isRunbookFileName,
  type LoadRunbooksOptions,
  type LoadRunbooksResult,
  loadRunbooks,
  SHIPPED_RUNBOOK_DIR,
} from './runbook-loader';
export { matcherHolds, matchingRules, ruleApplies } from './runbook-rules';
export {
  DEFAULT_RUNBOOK_RESCAN_MS,
  type RunbookWatch,
  type RunbookWatchDeps,
  runbookFingerprint,
  watchRunbooks,
} from './runbook-watch';
export { findSimilarFailures, requestText, type SimilarFailure } from './similar-failures';
export { STOPWORDS, stem, terms, trigrams, words } from './tokenize';
