// Okapi BM25 over the knowledge base's own terms (tokenize.ts `terms`): k1 = 1.2, b = 0.75,
// idf = ln((N - n + 0.5) / (n + 0.5) + 1). The same ranking @langchain/community's BM25Retriever gave the index
// (over `_term_`-wrapped text), computed on term counts kept per document instead of substring searches.

const K1 = 1.2;
const B = 0.75;

interface Counted {
  counts: Map<string, number>;
  length: number;
}

export interface Bm25Hit {
  id: string;
  score: number;
}

export class Bm25Index {
  private readonly docs = new Map<string, Counted>();
  /** How many documents hold each term. */
  private readonly holding = new Map<string, number>();
  private totalLength = 0;

  get size(): number {
    return this.docs.size;
  }

  /** Adds or replaces a document by its terms (duplicates count). */
  set(id: string, terms: readonly string[]): void {
    this.remove(id);
    const counts = new Map<string, number>();
    for (const t of terms) counts.set(t, (counts.get(t) ?? 0) + 1);
    for (const t of counts.keys()) this.holding.set(t, (this.holding.get(t) ?? 0) + 1);
    this.docs.set(id, { counts, length: terms.length });
    this.totalLength += terms.length;
  }

  remove(id: string): boolean {
    const doc = this.docs.get(id);
    if (!doc) return false;
    for (const t of doc.counts.keys()) {
      const n = (this.holding.get(t) ?? 1) - 1;
      if (n > 0) this.holding.set(t, n);
      else this.holding.delete(t);
    }
    this.totalLength -= doc.length;
    this.docs.delete(id);
    return true;
  }

  /** Documents sharing at least one of the (distinct) query terms, best score first, ties by id. */
  rank(query: readonly string[]): Bm25Hit[] {
    const n = this.docs.size;
    if (n === 0) return [];
    const terms = [...new Set(query)];
    const average = this.totalLength / n;
    const idf = new Map(terms.map((t) => [t, idfOf(n, this.holding.get(t) ?? 0)] as const));
    const hits: Bm25Hit[] = [];
    for (const [id, doc] of this.docs) {
      let score = 0;
      for (const t of terms) {
        const tf = doc.counts.get(t) ?? 0;
        if (tf === 0) continue;
        const norm = average > 0 ? doc.length / average : 0;
        score += ((idf.get(t) ?? 0) * (tf * (K1 + 1))) / (tf + K1 * (1 - B + B * norm));
      }
      if (score > 0 && Number.isFinite(score)) hits.push({ id, score });
    }
    return hits.sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }
}

function idfOf(documents: number, holding: number): number {
  return Math.log((documents - holding + 0.5) / (holding + 0.5) + 1);
}
