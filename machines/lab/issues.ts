// Problems found in a lab file: each names the exact path into the file (`vms[2].networks[0].vnet`).
/** One segment of a path: an object key or an array index. */
export type PathSegment = string | number;

export interface LabIssue {
  /** `vms[2].networks[0].vnet`; empty for the file as a whole. */
  path: string;
  message: string;
  /** 1-based line and column in the file's text, when the parser could tell. */
  line?: number | undefined;
  column?: number | undefined;
}

/** `['vms', 2, 'networks', 0, 'vnet']` → `vms[2].networks[0].vnet`. */
export function formatPath(segments: readonly PathSegment[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number') out += `[${s}]`;
    else out += out === '' ? s : `.${s}`;
  }
  return out;
}

/** `vms[2].networks[0].vnet: unknown vnet 'dmz'` (with `(line 14)` when known). */
export function formatIssue(issue: LabIssue): string {
  const where = issue.line !== undefined ? ` (line ${issue.line})` : '';
  return issue.path === '' ? `${issue.message}${where}` : `${issue.path}${where}: ${issue.message}`;
}

export const issue = (path: string, message: string): LabIssue => ({ path, message });

/** A lab file that cannot be used: every problem found, each with its path. */
export class LabFileInvalidError extends Error {
  override name = 'LabFileInvalidError';
  constructor(
    readonly issues: readonly LabIssue[],
    options?: { cause?: unknown },
  ) {
    super(
      issues.length === 1
        ? `invalid lab file: ${formatIssue(issues[0]!)}`
        : `invalid lab file (${issues.length} problems):\n${issues.map((i) => `  ${formatIssue(i)}`).join('\n')}`,
      options,
    );
  }
}

/** Quoted, comma-separated list for messages: `'a', 'b'`; `none` when empty. */
export function quoteList(items: readonly string[]): string {
  return items.length === 0 ? 'none' : items.map((i) => `'${i}'`).join(', ');
}

/** `vms[2].networks[0].vnet` → `['vms', 2, 'networks', 0, 'vnet']` (formatPath's inverse). */
export function parsePath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]!);
  return out;
}
