// The in-memory search index of the knowledge base: BM25 over the documents' terms and a vector store (a
// @langchain/core VectorStore) over their stored embeddings, fused with Reciprocal Rank Fusion. Updated document
// by document; the vectors come from the documents (never recomputed here), only the query is embedded.
import type { DocumentInterface } from '@langchain/core/documents';
import { Document } from '@langchain/core/documents';
import type { KnowledgeDocument, KnowledgeSource } from '../../state/knowledge-repo';
import { Bm25Index } from './bm25';
import { documentText } from './documents';
import { KnowledgeError } from './errors';
import type { HashingEmbeddings } from './hashing-embeddings';
import { MemoryVectors } from './memory-vectors';
import { reciprocalRankFusion } from './rrf';
import { terms } from './tokenize';

export interface SearchOptions {
  /** Most results. Default 5. */
  k?: number | undefined;
  /** Only documents of these sources. */
  sources?: readonly KnowledgeSource[] | undefined;
}

export interface SearchResult {
  doc: KnowledgeDocument;
  /** Fused RRF score. */
  score: number;
  /** 1-based rank among the BM25 hits, when the document had one. */
  bm25Rank?: number | undefined;
  /** 1-based rank by cosine similarity, when similar at all. */
  vectorRank?: number | undefined;
}

/** How deep each list is read before fusion. */
const MIN_DEPTH = 50;

const byId = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class HybridIndex {
  private readonly docs = new Map<string, KnowledgeDocument>();
  private readonly vectors: MemoryVectors;
  private readonly bm25 = new Bm25Index();

  constructor(private readonly embeddings: HashingEmbeddings) {
    this.vectors = new MemoryVectors(embeddings);
  }

  get size(): number {
    return this.docs.size;
  }

  get(id: string): KnowledgeDocument | undefined {
    return this.docs.get(id);
  }

  /** Every indexed document, ordered by id. */
  documents(): KnowledgeDocument[] {
    return [...this.docs.values()].sort((a, b) => byId(a.id, b.id));
  }

  /** Adds or replaces a document. It must carry its embedding (of the index's dimensions). */
  async upsert(doc: KnowledgeDocument): Promise<void> {
    if (!doc.embedding || doc.embedding.length !== this.embeddings.dimensions) {
      throw new KnowledgeError(
        `document ${doc.id} has no embedding of ${this.embeddings.dimensions} dimensions (got ${doc.embedding?.length ?? 'none'})`,
      );
    }
    this.docs.set(doc.id, doc);
    await this.vectors.addVectors(
      [doc.embedding],
      [new Document({ id: doc.id, pageContent: documentText(doc), metadata: { source: doc.source } })],
    );
    this.bm25.set(doc.id, terms(documentText(doc)));
  }

  remove(id: string): boolean {
    if (!this.docs.delete(id)) return false;
    this.vectors.remove(id);
    this.bm25.remove(id);
    return true;
  }

  /** Hybrid search: BM25 and cosine rankings fused with RRF. Deterministic: ties are broken by document id. */
  async search(query: string, options: SearchOptions = {}): Promise<SearchResult[]> {
    const k = options.k ?? 5;
    const sources = options.sources ? new Set<string>(options.sources) : undefined;
    const keep = (id: string) => {
      const doc = this.docs.get(id);
      return doc !== undefined && (!sources || sources.has(doc.source));
    };
    if (k <= 0 || this.docs.size === 0) return [];
    const depth = Math.max(MIN_DEPTH, k * 5);
    const lexical = this.bm25.rank(terms(query)).map((h) => h.id);
    const semantic = await this.vectorRanking(query, sources);
    const fused = reciprocalRankFusion([lexical.filter(keep).slice(0, depth), semantic.filter(keep).slice(0, depth)]);
    return fused.slice(0, k).map((item) => ({
      doc: this.docs.get(item.key)!,
      score: item.score,
      bm25Rank: item.ranks[0],
      vectorRank: item.ranks[1],
    }));
  }

  /** Ids of documents with a positive cosine similarity to the query, most similar first (ties by id). */
  private async vectorRanking(query: string, sources: Set<string> | undefined): Promise<string[]> {
    const vector = await this.embeddings.embedQuery(query);
    if (!vector.some((v) => v !== 0)) return [];
    const filter = sources ? (d: DocumentInterface) => sources.has(String(d.metadata.source)) : undefined;
    const hits = await this.vectors.similaritySearchVectorWithScore(vector, this.vectors.size, filter);
    return hits
      .map(([d, score]) => ({ id: d.id ?? '', score }))
      .filter((h) => h.id && Number.isFinite(h.score) && h.score > 0)
      .sort((a, b) => b.score - a.score || byId(a.id, b.id))
      .map((h) => h.id);
  }
}
