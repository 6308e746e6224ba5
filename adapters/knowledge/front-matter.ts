// A small front-matter reader for runbook markdown: a `---` fenced block of `key: value` lines at the top.
// Values are a string, or a `[a, b, c]` list of strings; `"..."`/`'...'` quotes are stripped; `#` starts a
// comment line. Deliberately not YAML: no nesting, no multi-line values, nothing implicit.

export type FrontMatterValue = string | string[];

export interface FrontMatter {
  /** Keys in file order. */
  fields: Map<string, FrontMatterValue>;
  /** The markdown after the closing `---`. */
  body: string;
}

/** Why a front-matter block cannot be read; `key` is set when one line is at fault. */
export interface FrontMatterProblem {
  problem: string;
  key?: string;
  line?: number;
}

const unquote = (s: string): string => {
  const t = s.trim();
  return t.length >= 2 && (t[0] === '"' || t[0] === "'") && t.at(-1) === t[0] ? t.slice(1, -1) : t;
};

/** Splits `a, b, "c, d"` at commas outside quotes. */
function splitList(inner: string): string[] {
  const items: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const ch of inner) {
    if (quote) {
      if (ch === quote) quote = undefined;
      current += ch;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      current += ch;
    } else if (ch === ',') {
      items.push(current);
      current = '';
    } else current += ch;
  }
  items.push(current);
  return items.map(unquote).filter((item) => item !== '');
}

/** Parses one value: `[a, b]` is a list, anything else a string. */
export function parseFrontMatterValue(raw: string): FrontMatterValue {
  const t = raw.trim();
  if (t.startsWith('[') && t.endsWith(']')) return splitList(t.slice(1, -1));
  return unquote(t);
}

/** Reads the front matter of `text`; a problem instead when there is none or a line is malformed. */
export function parseFrontMatter(text: string): FrontMatter | FrontMatterProblem {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  if (lines[0]?.trim() !== '---') return { problem: 'has no front matter (the file must start with a --- line)' };
  const end = lines.findIndex((line, i) => i > 0 && line.trim() === '---');
  if (end < 0) return { problem: 'front matter is not closed by a --- line' };
  const fields = new Map<string, FrontMatterValue>();
  for (let i = 1; i < end; i++) {
    const line = lines[i]!;
    if (line.trim() === '' || line.trim().startsWith('#')) continue;
    const match = /^([A-Za-z][A-Za-z0-9_-]*)\s*:(.*)$/.exec(line.trim());
    if (!match) return { problem: `line ${i + 1} is not 'key: value'`, line: i + 1 };
    const key = match[1]!;
    if (fields.has(key)) return { problem: `is given twice (line ${i + 1})`, key, line: i + 1 };
    const raw = match[2]!.trim();
    if (raw.startsWith('[') && !raw.endsWith(']')) {
      return { problem: `list on line ${i + 1} is not closed by ]`, key, line: i + 1 };
    }
    fields.set(key, parseFrontMatterValue(raw));
  }
  return {
    fields,
    body: lines
      .slice(end + 1)
      .join('\n')
      .trim(),
  };
}

export const isFrontMatterProblem = (r: FrontMatter | FrontMatterProblem): r is FrontMatterProblem => 'problem' in r;
