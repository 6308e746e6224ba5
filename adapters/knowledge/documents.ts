// How runbooks, incidents and failed requests become knowledge documents, and the text that is indexed for
// each (title, keywords, body). Pure: the caller supplies time and embeddings.
import { createHash } from 'node:crypto';
import type { Action, RequestParams, RequestTarget } from '../../machines/types';
import type { KnowledgeDocument } from '../../state/knowledge-repo';
import { describeRemediation, describeWhen, type Runbook } from './runbook';

/** An incident as the monitor loop closes or escalates it. */
export interface IncidentRecord {
  id: string;
  /** `unexpected-stop`, `crash-loop`, `node-offline`, ... (the runbooks' `conditions`). */
  kind: string;
  /** What it happened to: `vm:lab/101`, `host:lab/pve2`. */
  subject: string;
  cause?: string | undefined;
  /** What was done about it (`start`, `notify`, ...). */
  actions?: readonly string[] | undefined;
  /** How it ended (`resolved`, `remediation failed`, `escalated`, ...). */
  outcome?: string | undefined;
  detail?: Record<string, unknown> | string | undefined;
}

/** A request whose platform operation failed. */
export interface FailedRequestRecord {
  requestId: string;
  action: Action;
  target: RequestTarget;
  error: string;
  params?: RequestParams | undefined;
  /** The node it ran on, when known (deploys name theirs in params.node). */
  node?: string | undefined;
}

export const docId = {
  runbook: (id: string): string => `runbook:${id}`,
  incident: (id: string): string => `incident:${id}`,
  request: (requestId: string): string => `request:${requestId}`,
} as const;

/** A runbook as kept in a document's metadata (everything but the body, which is the document body). */
export type StoredRunbook = Omit<Runbook, 'body'>;

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

const scalar = (value: unknown): string | undefined =>
  typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' ? String(value) : undefined;

/** The text indexed for a document (BM25 and embedding): title, metadata keywords, body. */
export function documentText(doc: Pick<KnowledgeDocument, 'title' | 'body' | 'metadata'>): string {
  return [doc.title, strings(doc.metadata.keywords).join(' '), doc.body].filter(Boolean).join('\n');
}

/** The embedding inputs of a document, hashed: equal hashes mean the stored embedding is still right. */
export function contentHash(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

// ---- runbooks ------------------------------------------------------------------------------------------------

/** A runbook's document (without embedding or times). */
export function runbookDocument(runbook: Runbook): Omit<KnowledgeDocument, 'createdAt' | 'updatedAt'> {
  const { body, ...stored } = runbook;
  const keywords = [...runbook.conditions, ...runbook.actions];
  const metadata: Record<string, unknown> = { runbook: stored satisfies StoredRunbook, keywords };
  if (runbook.rule)
    metadata.rule = runbook.when.length ? `${runbook.rule} when ${describeWhen(runbook.when)}` : runbook.rule;
  if (runbook.remediation) metadata.remediation = describeRemediation(runbook.remediation);
  return { id: docId.runbook(runbook.id), source: 'runbook', title: runbook.title, body, metadata };
}

/** The runbook a stored runbook document holds, or undefined when its metadata is not one. */
export function runbookOf(doc: KnowledgeDocument): Runbook | undefined {
  if (doc.source !== 'runbook') return undefined;
  const stored = doc.metadata.runbook as StoredRunbook | undefined;
  if (!stored || typeof stored.id !== 'string' || !Array.isArray(stored.conditions) || !Array.isArray(stored.when)) {
    return undefined;
  }
  return { ...stored, actions: [...stored.actions], body: doc.body };
}

// ---- failed requests -------------------------------------------------------------------------------------------

/** `clone of 9000 on pve2`, `stop of lab/101 on pve1`: what a request did, for titles and warnings. */
export function requestSubject(
  action: Action,
  target: RequestTarget,
  params: RequestParams = {},
  node?: string,
): string {
  const where = node ?? scalar(params.node);
  const on = where ? ` on ${where}` : '';
  if (action === 'deploy') {
    const template = scalar(params.template);
    return `clone of ${template ?? '?'}${on}`;
  }
  const vm = target.vmid === undefined ? target.cluster : `${target.cluster}/${target.vmid}`;
  return `${action} of ${vm}${on}`;
}

/** `template=9000 node=pve2` for the scalar parameters, sorted by name. */
export function describeParams(params: RequestParams = {}): string {
  return Object.keys(params)
    .sort()
    .flatMap((k) => {
      const v = scalar(params[k]);
      return v === undefined ? [] : [`${k}=${v}`];
    })
    .join(' ');
}

export function failedRequestDocument(
  failure: FailedRequestRecord,
): Omit<KnowledgeDocument, 'createdAt' | 'updatedAt'> {
  const params = failure.params ?? {};
  const node = failure.node ?? scalar(params.node);
  const subject = requestSubject(failure.action, failure.target, params, node);
  const paramText = describeParams(params);
  const body = [
    `Request ${failure.requestId}: ${failure.action} on cluster ${failure.target.cluster} failed.`,
    `Target: ${subject}.`,
    paramText ? `Parameters: ${paramText}` : '',
    `Error: ${failure.error}`,
  ]
    .filter(Boolean)
    .join('\n');
  const metadata: Record<string, unknown> = {
    requestId: failure.requestId,
    action: failure.action,
    cluster: failure.target.cluster,
    params,
    error: failure.error,
    keywords: [failure.action, 'failed'],
  };
  if (failure.target.vmid !== undefined) metadata.vmid = failure.target.vmid;
  if (node !== undefined) metadata.node = node;
  return { id: docId.request(failure.requestId), source: 'request', title: `${subject} failed`, body, metadata };
}

// ---- incidents -------------------------------------------------------------------------------------------------

const describeDetail = (detail: IncidentRecord['detail']): string => {
  if (detail === undefined) return '';
  if (typeof detail === 'string') return detail;
  return Object.keys(detail)
    .sort()
    .map((k) => `${k}=${scalar(detail[k]) ?? JSON.stringify(detail[k])}`)
    .join(' ');
};

export function incidentDocument(
  incident: IncidentRecord,
  summary?: string,
): Omit<KnowledgeDocument, 'createdAt' | 'updatedAt'> {
  const detail = describeDetail(incident.detail);
  const actions = [...(incident.actions ?? [])];
  const body = [
    `Incident ${incident.id}: ${incident.kind} on ${incident.subject}.`,
    incident.cause ? `Cause: ${incident.cause}` : '',
    actions.length ? `Actions taken: ${actions.join(', ')}` : '',
    incident.outcome ? `Outcome: ${incident.outcome}` : '',
    detail ? `Detail: ${detail}` : '',
    summary ? `Summary: ${summary}` : '',
  ]
    .filter(Boolean)
    .join('\n');
  const metadata: Record<string, unknown> = {
    incidentId: incident.id,
    kind: incident.kind,
    subject: incident.subject,
    actions,
    keywords: [incident.kind],
  };
  if (incident.cause !== undefined) metadata.cause = incident.cause;
  if (incident.outcome !== undefined) metadata.outcome = incident.outcome;
  if (incident.detail !== undefined) metadata.detail = incident.detail;
  if (summary) metadata.summary = summary;
  return {
    id: docId.incident(incident.id),
    source: 'incident',
    title: `${incident.kind} on ${incident.subject}`,
    body,
    metadata,
  };
}

/** Does a document of `source` record something that went wrong (every failed request; incidents not resolved)? */
export function isFailureDocument(doc: Pick<KnowledgeDocument, 'source' | 'metadata'>): boolean {
  if (doc.source === 'request') return true;
  if (doc.source !== 'incident') return false;
  const outcome = scalar(doc.metadata.outcome) ?? '';
  return /fail|error|escalat|gave up|unresolved|timeout|timed out/i.test(outcome);
}
