// The knowledge base: runbooks, past incidents and failed requests as searchable documents (SQLite for keeps,
// an in-memory hybrid index for search), and the gate's knowledge check (check 10): runbook rules that deny or
// need approval, and warnings about similar past failures.
import type { CheckResult, RequestSpec, VmInfo } from '../../machines/types';
import type { KnowledgeDocument, KnowledgeRepo } from '../../state/knowledge-repo';
import type { Clock } from '../clock';
import type { Log } from '../log';
import {
  contentHash,
  documentText,
  type FailedRequestRecord,
  failedRequestDocument,
  type IncidentRecord,
  incidentDocument,
  requestSubject,
  runbookDocument,
  runbookOf,
} from './documents';
import { HashingEmbeddings } from './hashing-embeddings';
import { HybridIndex, type SearchOptions, type SearchResult } from './hybrid-index';
import type { Summariser } from './llm-summariser';
import type { Runbook } from './runbook';
import { describeWhen } from './runbook';
import { matchingRules } from './runbook-rules';
import { findSimilarFailures, requestText, type SimilarFailure } from './similar-failures';

/** The gate check name of the knowledge check. */
export const KNOWLEDGE_CHECK = 'knowledge';

export const DEFAULT_SIMILAR_FAILURE_THRESHOLD = 0.6;
export const DEFAULT_MAX_WARNINGS = 3;

export interface KnowledgeBaseOptions {
  repo: KnowledgeRepo;
  clock: Clock;
  log: Log;
  /** Optional incident summariser; its failures are logged and ignored. */
  llm?: Summariser | undefined;
  /** Default: a 512-dimension HashingEmbeddings. */
  embeddings?: HashingEmbeddings | undefined;
  /** 0..1, default 0.6. */
  similarFailureThreshold?: number | undefined;
  /** Default 3. */
  maxWarnings?: number | undefined;
}

export interface RunbookSyncReport {
  added: string[];
  updated: string[];
  unchanged: string[];
  /** Runbook documents whose runbook is no longer loaded. */
  removed: string[];
}

export interface LoadReport {
  documents: number;
  /** Documents stored without a usable embedding (or from another embedding), embedded and stored again. */
  reembedded: number;
}

const byId = (a: { id: string }, b: { id: string }): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

export class KnowledgeBase {
  readonly embeddings: HashingEmbeddings;
  private readonly repo: KnowledgeRepo;
  private readonly clock: Clock;
  private readonly log: Log;
  private readonly llm: Summariser | undefined;
  private readonly threshold: number;
  private readonly maxWarnings: number;
  private index: HybridIndex;
  private readonly runbookMap = new Map<string, Runbook>();
  private loading: Promise<LoadReport> | undefined;

  constructor(options: KnowledgeBaseOptions) {
    this.repo = options.repo;
    this.clock = options.clock;
    this.log = options.log;
    this.llm = options.llm;
    this.embeddings = options.embeddings ?? new HashingEmbeddings();
    this.threshold = options.similarFailureThreshold ?? DEFAULT_SIMILAR_FAILURE_THRESHOLD;
    this.maxWarnings = options.maxWarnings ?? DEFAULT_MAX_WARNINGS;
    this.index = new HybridIndex(this.embeddings);
  }

  /**
   * Reads every stored document into memory, using the stored embeddings. Called on first use; call it again to
   * re-read the database. A document without an embedding of this model is embedded once and stored.
   */
  load(): Promise<LoadReport> {
    const loading = this.readAll();
    this.loading = loading;
    // a failed load is retried by the next call rather than remembered
    loading.catch(() => {
      if (this.loading === loading) this.loading = undefined;
    });
    return loading;
  }

  private ready(): Promise<LoadReport> {
    return this.loading ?? this.load();
  }

  private async readAll(): Promise<LoadReport> {
    const index = new HybridIndex(this.embeddings);
    const runbooks = new Map<string, Runbook>();
    let reembedded = 0;
    const docs = this.repo.all();
    for (let doc of docs) {
      if (!this.hasCurrentEmbedding(doc)) {
        doc = this.repo.upsert(this.withEmbedding(doc));
        reembedded++;
      }
      await index.upsert(doc);
      const runbook = runbookOf(doc);
      if (runbook) runbooks.set(runbook.id, runbook);
    }
    this.index = index;
    this.runbookMap.clear();
    for (const [id, rb] of runbooks) this.runbookMap.set(id, rb);
    if (reembedded > 0) this.log.info(`knowledge: embedded ${reembedded} stored document(s) again`);
    return { documents: docs.length, reembedded };
  }

  // ---- writes --------------------------------------------------------------------------------------------------

  /**
   * Makes the stored runbooks exactly `runbooks`: new and changed ones are embedded and stored, unchanged ones
   * (same content hash) are left alone, and runbook documents of runbooks no longer loaded are removed.
   */
  async syncRunbooks(runbooks: readonly Runbook[]): Promise<RunbookSyncReport> {
    await this.ready();
    const report: RunbookSyncReport = { added: [], updated: [], unchanged: [], removed: [] };
    const keep = new Set<string>();
    for (const runbook of [...runbooks].sort(byId)) {
      const base = runbookDocument(runbook);
      keep.add(base.id);
      const hash = contentHash({ title: base.title, body: base.body, metadata: base.metadata });
      const existing = this.index.get(base.id);
      if (existing && existing.metadata.contentHash === hash && this.hasCurrentEmbedding(existing)) {
        report.unchanged.push(runbook.id);
        this.runbookMap.set(runbook.id, runbook);
        continue;
      }
      await this.write({ ...base, metadata: { ...base.metadata, contentHash: hash } });
      this.runbookMap.set(runbook.id, runbook);
      (existing ? report.updated : report.added).push(runbook.id);
    }
    for (const doc of this.index.documents()) {
      if (doc.source !== 'runbook' || keep.has(doc.id)) continue;
      this.repo.delete(doc.id);
      this.index.remove(doc.id);
      const runbook = runbookOf(doc);
      if (runbook) this.runbookMap.delete(runbook.id);
      report.removed.push(runbook?.id ?? doc.id);
    }
    const changed = report.added.length + report.updated.length + report.removed.length;
    if (changed > 0) {
      this.log.info(
        `knowledge: runbooks synced (${report.added.length} added, ${report.updated.length} updated, ` +
          `${report.removed.length} removed, ${report.unchanged.length} unchanged)`,
      );
    }
    return report;
  }

  /**
   * Records an incident (again, under the same id, when it changes). With a summariser, a one-paragraph summary
   * is added afterwards; a summariser failure is logged and the document kept without it.
   */
  async recordIncident(incident: IncidentRecord): Promise<KnowledgeDocument> {
    await this.ready();
    let doc = await this.write(incidentDocument(incident));
    if (this.llm) {
      try {
        const summary = await this.llm.summarise(documentText(doc));
        doc = await this.write(incidentDocument(incident, summary));
      } catch (err) {
        this.log.warn(
          `knowledge: no summary for incident ${incident.id}: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
    return doc;
  }

  /** Records a request whose platform operation failed, so later requests like it carry a warning. */
  async recordFailedRequest(failure: FailedRequestRecord): Promise<KnowledgeDocument> {
    await this.ready();
    return this.write(failedRequestDocument(failure));
  }

  /** Removes a document (any source) by its document id. */
  async remove(id: string): Promise<boolean> {
    await this.ready();
    const stored = this.repo.delete(id);
    const indexed = this.index.remove(id);
    const runbook = id.startsWith('runbook:') ? id.slice('runbook:'.length) : undefined;
    if (runbook) this.runbookMap.delete(runbook);
    return stored || indexed;
  }

  // ---- reads ---------------------------------------------------------------------------------------------------

  /** Hybrid search (BM25 + lexical-vector cosine, fused with RRF), best first. */
  async search(query: string, options: SearchOptions = {}): Promise<SearchResult[]> {
    await this.ready();
    return this.index.search(query, options);
  }

  /** Every runbook in the knowledge base, by id. */
  async runbooks(): Promise<Runbook[]> {
    await this.ready();
    return [...this.runbookMap.values()].sort(byId);
  }

  async runbook(id: string): Promise<Runbook | undefined> {
    await this.ready();
    return this.runbookMap.get(id);
  }

  /** The stored document by its id (`runbook:<id>`, `incident:<id>`, `request:<id>`). */
  async document(id: string): Promise<KnowledgeDocument | undefined> {
    await this.ready();
    return this.index.get(id);
  }

  /** Past failures similar to the request (threshold from the options), most similar first. */
  async similarFailures(spec: RequestSpec, vm?: VmInfo): Promise<SimilarFailure[]> {
    await this.ready();
    const vector = this.embeddings.embed(requestText(spec, vm));
    return findSimilarFailures(this.index.documents(), spec, vm, vector, this.threshold);
  }

  /**
   * The gate's knowledge check. `deny` or `approval` when a runbook rule matches the request (the reason names
   * the runbook); otherwise `pass`, with warnings in the reason about `warn` rules and similar past failures.
   */
  async adviseRequest(spec: RequestSpec, vm?: VmInfo): Promise<CheckResult> {
    await this.ready();
    const subject = requestSubject(spec.action, spec.target, spec.params ?? {}, vm?.node);
    const rules = matchingRules(this.runbookMap.values(), spec, vm);
    const warnings: string[] = [];
    for (const rb of rules.filter((r) => r.rule === 'warn')) {
      const when = rb.when.length ? ` (when ${describeWhen(rb.when)})` : '';
      warnings.push(`warning: runbook ${rb.id} (${rb.title}) applies${when}`);
    }
    try {
      const failures = await this.similarFailures(spec, vm);
      if (failures.length > 0) {
        const quoted = failures.slice(0, this.maxWarnings).map((f) => f.line);
        const more = failures.length > quoted.length ? `; and ${failures.length - quoted.length} more` : '';
        const noun = failures.length === 1 ? 'similar past failure' : 'similar past failures';
        warnings.push(`warning: ${failures.length} ${noun}${quoted.length ? `: ${quoted.join('; ')}` : ''}${more}`);
      }
    } catch (err) {
      this.log.error(`knowledge: past failures not checked for ${subject}`, err);
      warnings.push('warning: past failures could not be checked');
    }
    const strict = rules.find((r) => r.rule === 'deny' || r.rule === 'approval');
    if (strict && strict.rule !== 'warn') {
      const verb = strict.rule === 'deny' ? 'denies' : 'requires approval for';
      const when = strict.when.length ? ` (when ${describeWhen(strict.when)})` : '';
      const reason = `runbook ${strict.id} (${strict.title}) ${verb} ${subject}${when}`;
      return {
        check: KNOWLEDGE_CHECK,
        outcome: strict.rule,
        reason: [reason, ...warnings].join('; '),
      };
    }
    const reason = warnings.length
      ? `no runbook rule blocks ${subject}; ${warnings.join('; ')}`
      : `no runbook rule or similar past failure for ${subject}`;
    return { check: KNOWLEDGE_CHECK, outcome: 'pass', reason };
  }

  // ---- internals -----------------------------------------------------------------------------------------------

  private hasCurrentEmbedding(doc: KnowledgeDocument): boolean {
    return (
      doc.embedding !== undefined &&
      doc.embedding.length === this.embeddings.dimensions &&
      doc.metadata.embeddingModel === this.embeddings.modelId
    );
  }

  private withEmbedding<D extends Omit<KnowledgeDocument, 'embedding'>>(doc: D): D & { embedding: number[] } {
    return {
      ...doc,
      metadata: { ...doc.metadata, embeddingModel: this.embeddings.modelId },
      embedding: this.embeddings.embed(documentText(doc)),
    };
  }

  /** Embeds, stores (keeping createdAt of an earlier version) and indexes one document. */
  private async write(
    base: Omit<KnowledgeDocument, 'createdAt' | 'updatedAt' | 'embedding'>,
  ): Promise<KnowledgeDocument> {
    const now = this.clock.now();
    const createdAt = this.index.get(base.id)?.createdAt ?? now;
    const stored = this.repo.upsert(this.withEmbedding({ ...base, createdAt, updatedAt: now }));
    await this.index.upsert(stored);
    return stored;
  }
}
