// Reciprocal Rank Fusion (Cormack, Clarke & Büttcher 2009): merges ranked lists by summing 1 / (k + rank) for
// every list an item appears in. Only ranks matter, so scores on different scales (BM25, cosine) combine fairly.

/** The usual constant: damps the weight of the very top ranks. */
export const RRF_K = 60;

export interface FusedItem {
  key: string;
  score: number;
  /** 1-based rank in each input list, undefined where the item is absent. */
  ranks: (number | undefined)[];
}

/**
 * Fuses ranked lists of keys (best first; a key repeated in one list counts at its first place). Ordered by
 * fused score, then best single rank, then key, so equal inputs always give the same order.
 */
export function reciprocalRankFusion(lists: readonly (readonly string[])[], k: number = RRF_K): FusedItem[] {
  const items = new Map<string, FusedItem>();
  lists.forEach((list, li) => {
    const seen = new Set<string>();
    let rank = 0;
    for (const key of list) {
      if (seen.has(key)) continue;
      seen.add(key);
      rank++;
      let item = items.get(key);
      if (!item) {
        item = { key, score: 0, ranks: lists.map(() => undefined) };
        items.set(key, item);
      }
      item.ranks[li] = rank;
      item.score += 1 / (k + rank);
    }
  });
  const best = (item: FusedItem) => Math.min(...item.ranks.map((r) => r ?? Number.POSITIVE_INFINITY));
  return [...items.values()].sort(
    (a, b) => b.score - a.score || best(a) - best(b) || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0),
  );
}
