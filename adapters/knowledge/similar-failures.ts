// Past failures like a new request: failed requests of the same action, and unresolved incidents whose
// remediation used that action, scored by how much of the target they share (structure) and how alike their
// text is (cosine of the lexical embeddings). Pure and deterministic.
import type { RequestSpec, VmInfo } from '../../machines/types';
import type { KnowledgeDocument } from '../../state/knowledge-repo';
import { describeParams, isFailureDocument, requestSubject } from './documents';
import { cosineSimilarity } from './hashing-embeddings';

export interface SimilarFailure {
  doc: KnowledgeDocument;
  /** 0..1 */
  similarity: number;
  /** One line for a warning: `clone of 9000 on pve2 failed: can't lock file ... (req abc)`. */
  line: string;
}

/** Weight of the structural match against the text similarity. */
const STRUCTURE_WEIGHT = 0.75;
/** Longest error text quoted in a warning line. */
const MAX_ERROR_CHARS = 100;

const scalar = (value: unknown): string | undefined =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;

const clip = (text: string, max = MAX_ERROR_CHARS): string =>
  text.length <= max ? text : `${text.slice(0, max - 3).trimEnd()}...`;

/** The text a request is compared by: what it does, to what, with which parameters. */
export function requestText(spec: RequestSpec, vm: VmInfo | undefined): string {
  const subject = requestSubject(spec.action, spec.target, spec.params, vm?.node);
  return [subject, vm?.name ?? '', describeParams(spec.params)].filter(Boolean).join(' ');
}

/** Weighted share of the facets two requests have in common; facets unknown on either side are left out. */
function structuralSimilarity(spec: RequestSpec, vm: VmInfo | undefined, meta: Record<string, unknown>): number {
  let total = 0;
  let matched = 0;
  const facet = (weight: number, a: string | undefined, b: string | undefined) => {
    if (a === undefined || b === undefined) return;
    total += weight;
    if (a === b) matched += weight;
  };
  const params = spec.params ?? {};
  const pastParams = (meta.params ?? {}) as Record<string, unknown>;
  facet(1, spec.target.cluster, scalar(meta.cluster));
  if (spec.action === 'deploy') facet(3, scalar(params.template), scalar(pastParams.template));
  else facet(3, scalar(spec.target.vmid), scalar(meta.vmid));
  facet(2, vm?.node ?? scalar(params.node), scalar(meta.node));
  const others = new Set([...Object.keys(params), ...Object.keys(pastParams)]);
  for (const key of [...others].sort()) {
    if (key === 'node' || key === 'template') continue;
    // a parameter only one side has is a difference
    const a = scalar(params[key]) ?? (key in params ? '(set)' : '(unset)');
    const b = scalar(pastParams[key]) ?? (key in pastParams ? '(set)' : '(unset)');
    facet(0.5, a, b);
  }
  return total === 0 ? 0 : matched / total;
}

/** An incident is about the request's VM (1), its node (0.5), its cluster (0.25), or nothing of it (0). */
function incidentOverlap(spec: RequestSpec, vm: VmInfo | undefined, meta: Record<string, unknown>): number {
  const subject = scalar(meta.subject) ?? '';
  const cluster = spec.target.cluster;
  if (spec.target.vmid !== undefined && subject === `vm:${cluster}/${spec.target.vmid}`) return 1;
  const node = vm?.node ?? scalar(spec.params?.node);
  if (node !== undefined && subject === `host:${cluster}/${node}`) return 0.5;
  return subject.includes(`:${cluster}/`) ? 0.25 : 0;
}

/** Did the incident's remediation use this action (`start`, `start lab/101`, ...)? */
const incidentUsed = (meta: Record<string, unknown>, action: string): boolean =>
  Array.isArray(meta.actions) && meta.actions.some((a) => typeof a === 'string' && a.trim().split(/\s+/)[0] === action);

function warningLine(doc: KnowledgeDocument): string {
  const m = doc.metadata;
  if (doc.source === 'request') {
    return `${doc.title}: ${clip(scalar(m.error) ?? 'failed')} (req ${scalar(m.requestId) ?? doc.id})`;
  }
  const what = [scalar(m.cause), scalar(m.outcome)].filter(Boolean).join(' -> ');
  return `${doc.title}${what ? `: ${clip(what)}` : ''} (incident ${scalar(m.incidentId) ?? doc.id})`;
}

/** Similarities this close are a tie (the newer failure first): text noise such as ids does not order them. */
const TIE = 0.01;
const bucket = (similarity: number): number => Math.round(similarity / TIE);

/**
 * Past failures at least `threshold` similar to the request, most similar first (to 0.01), then most recent,
 * then by id.
 * `requestVector` is the embedding of requestText(spec, vm).
 */
export function findSimilarFailures(
  docs: Iterable<KnowledgeDocument>,
  spec: RequestSpec,
  vm: VmInfo | undefined,
  requestVector: readonly number[],
  threshold: number,
): SimilarFailure[] {
  const found: SimilarFailure[] = [];
  for (const doc of docs) {
    if (!isFailureDocument(doc)) continue;
    let structure: number;
    if (doc.source === 'request') {
      if (doc.metadata.action !== spec.action) continue;
      structure = structuralSimilarity(spec, vm, doc.metadata);
    } else {
      if (!incidentUsed(doc.metadata, spec.action)) continue;
      structure = incidentOverlap(spec, vm, doc.metadata);
    }
    const text = doc.embedding ? Math.max(0, cosineSimilarity(requestVector, doc.embedding)) : 0;
    const similarity = STRUCTURE_WEIGHT * structure + (1 - STRUCTURE_WEIGHT) * text;
    if (similarity >= threshold) found.push({ doc, similarity, line: warningLine(doc) });
  }
  return found.sort(
    (a, b) =>
      bucket(b.similarity) - bucket(a.similarity) ||
      b.doc.updatedAt - a.doc.updatedAt ||
      (a.doc.id < b.doc.id ? -1 : a.doc.id > b.doc.id ? 1 : 0),
  );
}
