// The vector side of the knowledge base's index: documents with their stored embeddings, kept in memory, ranked by
// cosine similarity to a query vector. A @langchain/core VectorStore, so any LangChain retriever can sit on it; the
// vectors come from the documents (never recomputed here). Replaces @langchain/classic's MemoryVectorStore, whose
// package pulls in @langchain/openai and openai (the optional summariser's packages) for every install.
import type { DocumentInterface } from '@langchain/core/documents';
import { Document } from '@langchain/core/documents';
import type { EmbeddingsInterface } from '@langchain/core/embeddings';
import { VectorStore } from '@langchain/core/vectorstores';
import { cosineSimilarity } from './hashing-embeddings';

interface StoredVector {
  id: string;
  embedding: number[];
  content: string;
  metadata: Record<string, unknown>;
}

export class MemoryVectors extends VectorStore {
  declare FilterType: (doc: DocumentInterface) => boolean;
  private readonly vectors = new Map<string, StoredVector>();

  constructor(embeddings: EmbeddingsInterface) {
    super(embeddings, {});
  }

  _vectorstoreType(): string {
    return 'overseer-memory';
  }

  get size(): number {
    return this.vectors.size;
  }

  /** Adds or replaces (by document id) one vector per document; a document without an id is refused. */
  async addVectors(vectors: number[][], documents: DocumentInterface[]): Promise<string[]> {
    const ids: string[] = [];
    documents.forEach((doc, i) => {
      const id = doc.id;
      const embedding = vectors[i];
      if (!id || !embedding) throw new TypeError('MemoryVectors: every document needs an id and a vector');
      this.vectors.set(id, { id, embedding, content: doc.pageContent, metadata: { ...doc.metadata } });
      ids.push(id);
    });
    return ids;
  }

  async addDocuments(documents: DocumentInterface[]): Promise<string[]> {
    const vectors = await this.embeddings.embedDocuments(documents.map((d) => d.pageContent));
    return this.addVectors(vectors, documents);
  }

  remove(id: string): boolean {
    return this.vectors.delete(id);
  }

  /** The `k` most similar documents (cosine), most similar first; ties by id, so the order is total. */
  async similaritySearchVectorWithScore(
    query: number[],
    k: number,
    filter?: this['FilterType'],
  ): Promise<[DocumentInterface, number][]> {
    const scored: [DocumentInterface, number][] = [];
    for (const v of this.vectors.values()) {
      const doc = new Document({ id: v.id, pageContent: v.content, metadata: v.metadata });
      if (filter && !filter(doc)) continue;
      scored.push([doc, cosineSimilarity(query, v.embedding)]);
    }
    scored.sort(([a, sa], [b, sb]) => sb - sa || ((a.id ?? '') < (b.id ?? '') ? -1 : 1));
    return scored.slice(0, Math.max(0, k));
  }
}
