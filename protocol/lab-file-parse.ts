// A lab file's text (YAML or JSON) → LabSpec, with every problem as `path: message` and its line in the file.
// `yaml` (eemeli/yaml) is the YAML parser: YAML 1.2 (so `no` stays a string and JSON is YAML), no dependencies,
// refuses duplicate keys, takes `<<` merge keys (one VM's settings reused by another), caps alias expansion (no "billion laughs") and keeps each node's position for line numbers.
import { isNode, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import type { LabInventory } from '../machines/lab/inventory';
import {
  formatPath,
  LabFileInvalidError,
  type LabIssue,
  type PathSegment,
  parsePath,
  quoteList,
} from '../machines/lab/issues';
import type { LabActual } from '../machines/lab/model';
import type { LabSpec } from '../machines/lab/spec';
import { checkLabSpec, type LabValidation, validateLab } from '../machines/lab/validate';
import { knownKeysAt, LabFileSchema } from './lab-file';

export type LabFileFormat = 'yaml' | 'json';

/** `.json` files are JSON; anything else is read as YAML. */
export function labFileFormatOf(fileName: string): LabFileFormat {
  return fileName.toLowerCase().endsWith('.json') ? 'json' : 'yaml';
}

export interface LabFileLocation {
  line: number;
  column: number;
}

export type LabFileParse =
  | { ok: true; spec: LabSpec; locate(path: string): LabFileLocation | undefined }
  | { ok: false; issues: LabIssue[] };

export interface LabFileOptions {
  format?: LabFileFormat | undefined;
}

/** The text parsed and checked against the schema (shape, types, unknown keys, defaults filled in). */
export function parseLabFile(text: string, options: LabFileOptions = {}): LabFileParse {
  if (options.format === 'json') {
    try {
      JSON.parse(text);
    } catch (err) {
      return { ok: false, issues: [{ path: '', message: `not valid JSON: ${(err as Error).message}` }] };
    }
  }
  const lines = new LineCounter();
  const doc = parseDocument(text, {
    lineCounter: lines,
    uniqueKeys: true,
    prettyErrors: false,
    strict: true,
    merge: true,
  });
  const at = (offset: number): LabFileLocation => {
    const { line, col } = lines.linePos(offset);
    return { line, column: col };
  };
  if (doc.errors.length > 0) {
    // The first error only: the ones after it are mostly the parser losing its way.
    const first = doc.errors[0]!;
    return { ok: false, issues: [{ path: '', message: yamlMessage(first.code, first.message), ...at(first.pos[0]) }] };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    return { ok: false, issues: [{ path: '', message: `cannot read the file: ${(err as Error).message}` }] };
  }
  const locate = (path: string): LabFileLocation | undefined => {
    const segments = parsePath(path);
    for (let n = segments.length; n >= 0; n--) {
      const node = doc.getIn(segments.slice(0, n), true);
      if (isNode(node) && node.range) return at(node.range[0]);
    }
    return undefined;
  };
  if (data === null || data === undefined) return { ok: false, issues: [{ path: '', message: 'the file is empty' }] };
  const parsed = LabFileSchema.safeParse(data, { reportInput: true });
  if (!parsed.success) {
    const issues = parsed.error.issues.flatMap(schemaIssues).map((i) => ({ ...i, ...locate(i.path) }));
    return { ok: false, issues: byPosition(dedupe(issues)) };
  }
  return { ok: true, spec: parsed.data, locate };
}

/** Parsed, and checked by the file's own rules (names, dependencies, networks, addresses). */
export function checkLabFile(
  text: string,
  options: LabFileOptions = {},
): { spec?: LabSpec | undefined; issues: LabIssue[]; warnings: LabIssue[] } {
  const parsed = parseLabFile(text, options);
  if (!parsed.ok) return { issues: parsed.issues, warnings: [] };
  const checked = checkLabSpec(parsed.spec);
  const where = (i: LabIssue) => ({ ...i, ...parsed.locate(i.path) });
  return { spec: parsed.spec, issues: byPosition(checked.issues.map(where)), warnings: checked.warnings.map(where) };
}

/** Parsed and checked against a cluster (and the lab as applied so far): the resolved lab when nothing is wrong. */
export function validateLabFile(
  text: string,
  inventory: LabInventory,
  actual?: LabActual,
  options: LabFileOptions = {},
): LabValidation & { spec?: LabSpec | undefined } {
  const parsed = parseLabFile(text, options);
  if (!parsed.ok) return { issues: parsed.issues, warnings: [] };
  const result = validateLab(parsed.spec, inventory, actual);
  const where = (i: LabIssue) => ({ ...i, ...parsed.locate(i.path) });
  return {
    ...result,
    spec: parsed.spec,
    issues: byPosition(result.issues.map(where)),
    warnings: result.warnings.map(where),
  };
}

/** The spec of a file that passes the schema and its own rules; otherwise LabFileInvalidError with every issue. */
export function loadLabFile(text: string, options: LabFileOptions = {}): LabSpec {
  const { spec, issues } = checkLabFile(text, options);
  if (!spec || issues.length > 0) throw new LabFileInvalidError(issues);
  return spec;
}

function yamlMessage(code: string, message: string): string {
  if (code === 'DUPLICATE_KEY') return 'a key appears twice in the same mapping';
  // yaml's messages end with " at line L, column C" when positions are known; we add the line ourselves.
  return `not valid YAML: ${message.replace(/ at line \d+, column \d+.*$/s, '')}`;
}

const describeInput = (input: unknown): string => {
  if (input === null) return 'null';
  if (Array.isArray(input)) return 'a list';
  if (typeof input === 'object') return 'a mapping';
  if (typeof input === 'string') return `'${input.length > 40 ? `${input.slice(0, 40)}…` : input}'`;
  return `${typeof input} ${String(input)}`;
};

const TYPE_NAMES: Readonly<Record<string, string>> = {
  object: 'a mapping',
  array: 'a list',
  string: 'text',
  number: 'a number',
  boolean: 'true or false',
};

/** One zod issue → issues in the file's terms (an unknown-keys issue becomes one per key, at the key). */
function schemaIssues(issue: z.core.$ZodIssue): LabIssue[] {
  const path = issue.path as PathSegment[];
  const at = formatPath(path);
  const input = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'unrecognized_keys': {
      const known = knownKeysAt(path) ?? [];
      return issue.keys.map((key) => ({
        path: formatPath([...path, key]),
        message: `unknown key '${key}'${suggest(key, known)} (${at === '' ? 'the lab' : at} takes: ${known.join(', ')})`,
      }));
    }
    case 'invalid_type': {
      if (input === undefined) return [{ path: at, message: 'is required' }];
      const want = TYPE_NAMES[issue.expected] ?? issue.expected;
      return [{ path: at, message: `must be ${want}, not ${describeInput(input)}` }];
    }
    case 'invalid_value': {
      const values = issue.values.map(String);
      const got = input === undefined ? 'is required' : `${describeInput(input)} is not one of them`;
      return [{ path: at, message: `must be one of ${quoteList(values)}: ${got}` }];
    }
    case 'invalid_union': {
      if ('discriminator' in issue && issue.discriminator) {
        const options = (issue as { options?: unknown[] }).options?.map(String) ?? [];
        const given = (input as Record<string, unknown> | undefined)?.[issue.discriminator];
        const got = given === undefined ? 'is required' : `${describeInput(given)} is not one of them`;
        return [{ path: at, message: `must be one of ${quoteList(options)}: ${got}` }];
      }
      return [{ path: at, message: issue.message }];
    }
    case 'too_small':
    case 'too_big': {
      const small = issue.code === 'too_small';
      const bound = Number(small ? issue.minimum : issue.maximum);
      const message =
        issue.origin === 'array'
          ? small
            ? `must have at least ${bound} item${bound === 1 ? '' : 's'}`
            : `must have at most ${bound} items`
          : issue.origin === 'string'
            ? small
              ? bound === 1
                ? 'must not be empty'
                : `must have at least ${bound} characters`
              : `must have at most ${bound} characters`
            : `must be ${small ? 'at least' : 'at most'} ${bound}${input !== undefined ? ` (not ${String(input)})` : ''}`;
      return [{ path: at, message }];
    }
    case 'not_multiple_of':
      return [{ path: at, message: `must be a whole number${input !== undefined ? ` (not ${String(input)})` : ''}` }];
    default:
      return [{ path: at, message: issue.message }];
  }
}

/** `; did you mean 'dependsOn'?` for a key that differs from a known one by case, '_'/'-' or a typo or two. */
function suggest(key: string, known: readonly string[]): string {
  const norm = (s: string) => s.toLowerCase().replace(/[-_]/g, '');
  const close = known.find((k) => norm(k) === norm(key)) ?? known.find((k) => editDistance(norm(k), norm(key)) <= 2);
  return close ? `; did you mean '${close}'?` : '';
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = row;
  }
  return prev[b.length]!;
}

function dedupe(issues: LabIssue[]): LabIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Issues in the order of the file (those without a line last, in their order). */
function byPosition(issues: LabIssue[]): LabIssue[] {
  const key = (i: LabIssue) => (i.line ?? Number.MAX_SAFE_INTEGER) * 10_000 + (i.column ?? 0);
  return issues
    .map((issue, index) => ({ issue, index }))
    .sort((a, b) => key(a.issue) - key(b.issue) || a.index - b.index)
    .map((x) => x.issue);
}
