// HashingEmbeddings: a local, deterministic, LEXICAL embedding (the "hashing trick"). It needs no model, no
// network and no training: each word and each character trigram of the text is hashed into one of `dimensions`
// buckets with a sign, weighted by its (sublinear) term frequency, and the vector is L2-normalised. Cosine
// similarity between two such vectors measures shared vocabulary and spelling, not meaning: "VM locked" and
// "guest frozen" are far apart. It is a stand-in that keeps retrieval working offline; a semantic embedding
// (OpenAI, Ollama) can replace it behind the same @langchain/core Embeddings interface.
import { Embeddings, type EmbeddingsParams } from '@langchain/core/embeddings';
import { STOPWORDS, terms, trigrams, words } from './tokenize';

export interface HashingEmbeddingsOptions extends EmbeddingsParams {
  /** Vector length; a power of two keeps bucket use even. Default 512. */
  dimensions?: number;
  /** Weight of one trigram relative to one word. Default 0.5. */
  trigramWeight?: number;
}

export const DEFAULT_EMBEDDING_DIMENSIONS = 512;

/** 32-bit FNV-1a of a string's UTF-16 code units. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export class HashingEmbeddings extends Embeddings {
  readonly dimensions: number;
  readonly trigramWeight: number;

  constructor(options: HashingEmbeddingsOptions = {}) {
    const { dimensions = DEFAULT_EMBEDDING_DIMENSIONS, trigramWeight = 0.5, ...params } = options;
    super(params);
    if (!Number.isInteger(dimensions) || dimensions < 8) {
      throw new RangeError(`HashingEmbeddings: dimensions must be an integer >= 8, got ${dimensions}`);
    }
    this.dimensions = dimensions;
    this.trigramWeight = trigramWeight;
  }

  /** Names the vector space: stored embeddings made under another id are recomputed. */
  get modelId(): string {
    return `hashing-v1-d${this.dimensions}-t${this.trigramWeight}`;
  }

  /**
   * The embedding of `text`, synchronously. Components are rounded to float32 so a vector stored as a
   * Float32Array BLOB reads back identical. An empty text (no terms) gives the zero vector.
   */
  embed(text: string): number[] {
    // feature -> [occurrences, weight of its kind]
    const counts = new Map<string, [number, number]>();
    const add = (feature: string, weight: number) => {
      const seen = counts.get(feature);
      if (seen) seen[0]++;
      else counts.set(feature, [1, weight]);
    };
    for (const term of terms(text)) add(`w:${term}`, 1);
    if (this.trigramWeight > 0) {
      for (const word of words(text)) {
        if (STOPWORDS.has(word)) continue;
        for (const gram of trigrams(word)) add(`g:${gram}`, this.trigramWeight);
      }
    }
    const vector = new Array<number>(this.dimensions).fill(0);
    for (const [feature, [tf, weight]] of counts) {
      const hash = fnv1a(feature);
      const sign = hash & 0x80000000 ? -1 : 1;
      // sublinear tf: a repeated word counts more, but less and less
      vector[hash % this.dimensions]! += sign * weight * (1 + Math.log(tf));
    }
    let norm = 0;
    for (const v of vector) norm += v * v;
    norm = Math.sqrt(norm);
    return norm === 0 ? vector : vector.map((v) => Math.fround(v / norm));
  }

  async embedDocuments(documents: string[]): Promise<number[][]> {
    return documents.map((d) => this.embed(d));
  }

  async embedQuery(document: string): Promise<number[]> {
    return this.embed(document);
  }
}

/** Cosine similarity of two vectors of equal length; 0 when either is the zero vector. */
export function cosineSimilarity(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
