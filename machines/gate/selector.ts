// Selectors: one request target naming many guests of a cluster, expanded against the inventory at decision time.
// A selector is a comma-separated list of terms: `@tag:<tag>`, `@pool:<pool>`, `@node:<node>`, `@all`, or a plain
// VMID; a term prefixed with `-` is an exclusion (`-105`, `-@tag:db`). The guests named by the includes are a union,
// and every exclusion removes its guests from it. Templates are never members (even when named by VMID). A VMID
// that is not in the inventory stays a member, so the gate's target check says it does not exist.
// Tags compare case-insensitively, as Proxmox treats them; pools and nodes exactly.
import type { VmInfo } from '../types';

export const SELECTOR_KINDS = ['tag', 'pool', 'node', 'all'] as const;
export type SelectorKind = (typeof SELECTOR_KINDS)[number];

/** One term of a selector. */
export type SelectorTerm =
  | { kind: 'all' }
  | { kind: 'tag' | 'pool' | 'node'; value: string }
  | { kind: 'vmid'; vmid: number };

export interface Selector {
  /** The selector as written. */
  text: string;
  include: SelectorTerm[];
  exclude: SelectorTerm[];
}

export type SelectorParse = { ok: true; selector: Selector } | { ok: false; error: string };

/** Longest selector accepted. */
export const MAX_SELECTOR_LENGTH = 1000;

const MIN_VMID = 100;
const MAX_VMID = 999_999_999;
/** PVE's pve-tag format. */
const TAG = /^[a-z0-9_][a-z0-9_+.-]*$/i;
/** PVE's pool names: up to three levels separated by '/'. */
const POOL = /^[A-Za-z0-9._-]+(?:\/[A-Za-z0-9._-]+){0,2}$/;
const NODE = /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
const VALUE_FORMAT: Readonly<Record<'tag' | 'pool' | 'node', { pattern: RegExp; noun: string }>> = {
  tag: { pattern: TAG, noun: 'tag' },
  pool: { pattern: POOL, noun: 'pool name' },
  node: { pattern: NODE, noun: 'node name' },
};

const EXPECTED = 'expected @tag:<tag>, @pool:<pool>, @node:<node>, @all, a VMID, or one of these after a -';

/** One term (without its `-`), or why it is malformed. */
function parseTerm(item: string): SelectorTerm | string {
  if (/^\d+$/.test(item)) {
    const vmid = Number(item);
    if (vmid < MIN_VMID || vmid > MAX_VMID) return `'${item}' is not a VMID from ${MIN_VMID} to ${MAX_VMID}`;
    return { kind: 'vmid', vmid };
  }
  if (!item.startsWith('@')) return `'${item}' is neither a VMID nor a selector term (${EXPECTED})`;
  const colon = item.indexOf(':');
  const kind = colon === -1 ? item.slice(1) : item.slice(1, colon);
  if (!(SELECTOR_KINDS as readonly string[]).includes(kind)) {
    return `unknown selector kind '@${kind}' (${EXPECTED})`;
  }
  if (kind === 'all') return colon === -1 ? { kind: 'all' } : `'@all' takes no value (got '${item}')`;
  const value = colon === -1 ? '' : item.slice(colon + 1);
  if (value === '') return `'@${kind}:' has an empty value (write @${kind}:<${kind}>)`;
  const format = VALUE_FORMAT[kind as 'tag' | 'pool' | 'node'];
  if (!format.pattern.test(value)) return `'${value}' in '${item}' is not a valid ${format.noun}`;
  return { kind: kind as 'tag' | 'pool' | 'node', value };
}

/** Parses a selector; the error names the term that is wrong and how. */
export function parseSelector(text: string): SelectorParse {
  if (text.trim() === '') return { ok: false, error: 'the selector is empty' };
  if (text.length > MAX_SELECTOR_LENGTH) {
    return { ok: false, error: `the selector is ${text.length} characters long (at most ${MAX_SELECTOR_LENGTH})` };
  }
  const include: SelectorTerm[] = [];
  const exclude: SelectorTerm[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') return { ok: false, error: `'${text}' has an empty term (a comma too many)` };
    if (item.startsWith('-')) {
      const term = parseTerm(item.slice(1));
      if (typeof term === 'string') return { ok: false, error: `malformed exclusion '${item}': ${term}` };
      if (term.kind === 'all')
        return { ok: false, error: `malformed exclusion '${item}': it would exclude every guest` };
      exclude.push(term);
    } else {
      const term = parseTerm(item);
      if (typeof term === 'string') return { ok: false, error: term };
      include.push(term);
    }
  }
  if (include.length === 0) {
    return {
      ok: false,
      error: `'${text}' only excludes guests: name the ones it is about (@tag:, @pool:, @node:, @all or VMIDs)`,
    };
  }
  return { ok: true, selector: { text, include, exclude } };
}

/** Does the term name this guest? */
function matches(term: SelectorTerm, vm: VmInfo): boolean {
  switch (term.kind) {
    case 'all':
      return true;
    case 'vmid':
      return vm.vmid === term.vmid;
    case 'tag': {
      const wanted = term.value.toLowerCase();
      return vm.tags.some((tag) => tag.toLowerCase() === wanted);
    }
    case 'pool':
      return vm.pool === term.value;
    case 'node':
      return vm.node === term.value;
  }
}

export interface SelectorExpansion {
  /** The member VMIDs, ascending. */
  vmids: number[];
  /** Templates the selector named by VMID: left out (templates are never members). */
  templates: VmInfo[];
}

/** The guests of `cluster` the selector names, against the inventory `vms`. */
export function expandSelector(selector: Selector, cluster: string, vms: Iterable<VmInfo>): SelectorExpansion {
  const guests = new Map<number, VmInfo>();
  for (const vm of vms) if (vm.cluster === cluster) guests.set(vm.vmid, vm);
  const chosen = new Set<number>();
  const templates = new Map<number, VmInfo>();
  for (const term of selector.include) {
    if (term.kind === 'vmid' && !guests.has(term.vmid)) chosen.add(term.vmid);
    for (const vm of guests.values()) {
      if (!matches(term, vm)) continue;
      if (!vm.template) chosen.add(vm.vmid);
      else if (term.kind === 'vmid') templates.set(vm.vmid, vm);
    }
  }
  for (const term of selector.exclude) {
    if (term.kind === 'vmid') chosen.delete(term.vmid);
    for (const vm of guests.values()) {
      if (!matches(term, vm)) continue;
      chosen.delete(vm.vmid);
      templates.delete(vm.vmid);
    }
  }
  return {
    vmids: [...chosen].sort((a, b) => a - b),
    templates: [...templates.values()].sort((a, b) => a.vmid - b.vmid),
  };
}
