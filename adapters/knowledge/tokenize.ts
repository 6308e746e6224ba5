// Lexical analysis shared by the BM25 side and the hashing embedding: lowercase words with stopwords dropped,
// a light suffix stemmer, and character trigrams. Pure and deterministic.

/** Common English words (and a few filler words of operator prose) that carry no retrieval signal. */
export const STOPWORDS: ReadonlySet<string> = new Set(
  (
    'a an and are as at be been but by can could did do does for from had has have how i if in into is it its ' +
    'may me my no not of on or our should so such than that the their them then there these they this those to ' +
    'too was we were what when where which while who why will with would you your'
  ).split(' '),
);

/** Lowercase alphanumeric runs of `text`, in order, stopwords kept. */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z0-9]+/g) ?? [];
}

const VOWEL = /[aeiouy]/;

/**
 * A deliberately small suffix stemmer (plural s, ed, ing, final e), so `locked`/`locks`/`locking` meet `lock`.
 * Not Porter: it only has to map both sides of a comparison the same way. Numbers are left alone.
 */
export function stem(word: string): string {
  if (/^[0-9]+$/.test(word) || word.length <= 3) return word;
  let w = word;
  if (w.endsWith('ies') && w.length > 4) w = `${w.slice(0, -3)}y`;
  else if (w.endsWith('sses')) w = w.slice(0, -2);
  else if (w.endsWith('s') && !w.endsWith('ss') && !w.endsWith('us') && !w.endsWith('is')) w = w.slice(0, -1);
  for (const suffix of ['ing', 'ed']) {
    if (w.endsWith(suffix) && w.length - suffix.length >= 3 && VOWEL.test(w.slice(0, -suffix.length))) {
      w = w.slice(0, -suffix.length);
      // stopped -> stopp -> stop; but keep fill, pass, buzz
      if (/([^aeiouylsz])\1$/.test(w)) w = w.slice(0, -1);
      break;
    }
  }
  // clone/cloned/cloning -> clon
  if (w.length > 3 && w.endsWith('e') && !w.endsWith('ee')) w = w.slice(0, -1);
  return w;
}

/** The retrieval terms of `text`: lowercase words, stopwords dropped, stemmed. Duplicates kept (term frequency). */
export function terms(text: string): string[] {
  const out: string[] = [];
  for (const w of words(text)) if (!STOPWORDS.has(w)) out.push(stem(w));
  return out;
}

/** Character trigrams of one word, with `^`/`$` marking its ends: `lock` -> `^lo lock ock ck$` (as 3-grams). */
export function trigrams(word: string): string[] {
  const padded = `^${word}$`;
  const out: string[] = [];
  for (let i = 0; i + 3 <= padded.length; i++) out.push(padded.slice(i, i + 3));
  return out;
}
