// A runbook: operator knowledge for one kind of trouble, as a markdown file with front matter. The front
// matter says which incidents it covers (`conditions`), which requests it concerns (`actions`), an optional
// gate rule (`rule` + `when`), and the remediation it recommends. This file turns parsed front matter into a
// validated Runbook, or a RunbookError naming the file and key.
import { ACTIONS, type Action } from '../../machines/types';
import { RunbookError } from './errors';
import { type FrontMatterValue, isFrontMatterProblem, parseFrontMatter } from './front-matter';

/** What a matching rule does to a request: deny it, send it for approval, or attach a warning. */
export const RUNBOOK_RULES = ['deny', 'approval', 'warn'] as const;
export type RunbookRule = (typeof RUNBOOK_RULES)[number];

export const REMEDIATION_KINDS = ['start', 'restart', 'reboot', 'notify', 'wait', 'none'] as const;
export type RemediationKind = (typeof REMEDIATION_KINDS)[number];

/** What the runbook recommends doing: a platform action, notifying a human, waiting, or a guest command. */
export type Remediation = { kind: RemediationKind } | { kind: 'command'; command: string };

/** Request and VM facts a `when` clause can test. */
export const MATCHER_KEYS = [
  'action',
  'tags',
  'lock',
  'status',
  'node',
  'cluster',
  'vmid',
  'name',
  'ha',
  'template',
  'force',
  'origin',
] as const;
export type MatcherKey = (typeof MATCHER_KEYS)[number];

/**
 * One clause of a `when`: `key: value` or `key: a|b` (any of), `key: !value` (none of). `*` in a value is a
 * wildcard (`lock: *` is any lock, `name: web*`). All clauses of a `when` must hold.
 */
export interface RunbookMatcher {
  key: MatcherKey;
  values: string[];
  negate: boolean;
}

export interface Runbook {
  id: string;
  title: string;
  /** Incident kinds it covers (`unexpected-stop`, `vm-locked`, ...). */
  conditions: string[];
  /** Request actions it concerns; a rule applies only to these (all actions when empty and `when` names one). */
  actions: Action[];
  rule?: RunbookRule | undefined;
  /** Empty: the rule applies to every request whose action is in `actions`. */
  when: RunbookMatcher[];
  remediation?: Remediation | undefined;
  /** The markdown after the front matter. */
  body: string;
  /** Where it was read from. */
  file: string;
}

const KNOWN_KEYS = new Set(['id', 'title', 'conditions', 'actions', 'rule', 'when', 'remediation']);
const SLUG = /^[a-z0-9][a-z0-9-]*$/;
const BOOLEAN_KEYS: ReadonlySet<MatcherKey> = new Set(['ha', 'template', 'force']);

const asList = (v: FrontMatterValue | undefined): string[] => (v === undefined ? [] : typeof v === 'string' ? [v] : v);

function parseMatcher(clause: string, file: string): RunbookMatcher {
  const match = /^([A-Za-z]+)\s*:\s*(.+)$/.exec(clause.trim());
  if (!match) throw new RunbookError(`clause '${clause.trim()}' is not 'key: value'`, file, 'when');
  const key = match[1]! as MatcherKey;
  if (!(MATCHER_KEYS as readonly string[]).includes(key)) {
    throw new RunbookError(`cannot test '${key}' (known: ${MATCHER_KEYS.join(', ')})`, file, `when.${key}`);
  }
  let raw = match[2]!.trim();
  const negate = raw.startsWith('!');
  if (negate) raw = raw.slice(1).trim();
  const values = raw
    .split('|')
    .map((v) => v.trim())
    .filter(Boolean);
  if (values.length === 0) throw new RunbookError('has no value', file, `when.${key}`);
  for (const value of values) {
    if (key === 'action' && !(ACTIONS as readonly string[]).includes(value)) {
      throw new RunbookError(`'${value}' is not an action (known: ${ACTIONS.join(', ')})`, file, `when.${key}`);
    }
    if (BOOLEAN_KEYS.has(key) && value !== 'true' && value !== 'false') {
      throw new RunbookError(`must be true or false, got '${value}'`, file, `when.${key}`);
    }
    if (key === 'origin' && value !== 'human' && value !== 'overseer') {
      throw new RunbookError(`must be human or overseer, got '${value}'`, file, `when.${key}`);
    }
    if (key === 'vmid' && !/^[0-9*]+$/.test(value)) {
      throw new RunbookError(`must be a VM id, got '${value}'`, file, `when.${key}`);
    }
  }
  return { key, values, negate };
}

function parseWhen(value: FrontMatterValue, file: string): RunbookMatcher[] {
  const clauses = typeof value === 'string' ? value.split(',') : value;
  const matchers = clauses.filter((c) => c.trim() !== '').map((c) => parseMatcher(c, file));
  if (matchers.length === 0) throw new RunbookError('is empty', file, 'when');
  return matchers;
}

function parseRemediation(value: FrontMatterValue, file: string): Remediation {
  if (typeof value !== 'string') throw new RunbookError('must be one value, not a list', file, 'remediation');
  const command = /^command\s*:\s*(.*)$/.exec(value);
  if (command) {
    const text = command[1]!.trim();
    if (!text) throw new RunbookError('command is empty', file, 'remediation');
    return { kind: 'command', command: text };
  }
  if (!(REMEDIATION_KINDS as readonly string[]).includes(value)) {
    throw new RunbookError(
      `'${value}' is not a remediation (known: ${REMEDIATION_KINDS.join(', ')}, command: <shell command>)`,
      file,
      'remediation',
    );
  }
  return { kind: value as RemediationKind };
}

function requireString(fields: Map<string, FrontMatterValue>, key: string, file: string): string {
  const value = fields.get(key);
  if (value === undefined || value === '') throw new RunbookError('is missing', file, key);
  if (typeof value !== 'string') throw new RunbookError('must be one value, not a list', file, key);
  return value;
}

/** Validates the front matter of one runbook file. Throws RunbookError naming `file` and the key at fault. */
export function parseRunbook(text: string, file: string): Runbook {
  const parsed = parseFrontMatter(text);
  if (isFrontMatterProblem(parsed)) throw new RunbookError(parsed.problem, file, parsed.key ?? '(file)');
  const { fields, body } = parsed;
  for (const key of fields.keys()) {
    if (!KNOWN_KEYS.has(key))
      throw new RunbookError(`is not a runbook key (known: ${[...KNOWN_KEYS].join(', ')})`, file, key);
  }
  const id = requireString(fields, 'id', file);
  if (!SLUG.test(id)) throw new RunbookError(`must be lowercase letters, digits and -, got '${id}'`, file, 'id');
  const title = requireString(fields, 'title', file);

  const conditions = asList(fields.get('conditions'));
  for (const c of conditions) {
    if (!SLUG.test(c))
      throw new RunbookError(`'${c}' is not an incident kind (lowercase, digits, -)`, file, 'conditions');
  }
  const actions = asList(fields.get('actions'));
  for (const a of actions) {
    if (!(ACTIONS as readonly string[]).includes(a)) {
      throw new RunbookError(`'${a}' is not an action (known: ${ACTIONS.join(', ')})`, file, 'actions');
    }
  }

  let rule: RunbookRule | undefined;
  const ruleValue = fields.get('rule');
  if (ruleValue !== undefined) {
    if (typeof ruleValue !== 'string' || !(RUNBOOK_RULES as readonly string[]).includes(ruleValue)) {
      throw new RunbookError(`must be one of ${RUNBOOK_RULES.join(', ')}`, file, 'rule');
    }
    rule = ruleValue as RunbookRule;
  }
  const whenValue = fields.get('when');
  const when = whenValue === undefined ? [] : parseWhen(whenValue, file);
  if (when.length > 0 && !rule) throw new RunbookError("is given without a 'rule' to apply", file, 'when');
  if (rule && actions.length === 0 && !when.some((m) => m.key === 'action' && !m.negate)) {
    throw new RunbookError("applies to no request: give 'actions' or a 'when: action: ...'", file, 'rule');
  }

  const remediationValue = fields.get('remediation');
  const runbook: Runbook = { id, title, conditions, actions: actions as Action[], when, body, file };
  if (rule) runbook.rule = rule;
  if (remediationValue !== undefined) runbook.remediation = parseRemediation(remediationValue, file);
  return runbook;
}

/** `tags: production, action: destroy` — a `when` as written in front matter. */
export function describeWhen(when: readonly RunbookMatcher[]): string {
  return when.map((m) => `${m.key}: ${m.negate ? '!' : ''}${m.values.join('|')}`).join(', ');
}

/** `restart`, `command: systemctl restart nginx`. */
export function describeRemediation(remediation: Remediation): string {
  return remediation.kind === 'command' ? `command: ${remediation.command}` : remediation.kind;
}
