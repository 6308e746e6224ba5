// The audit chain's hash: sha256(prev_hash + canonical JSON of {actor, at, data, kind, seq}).
import { createHash } from 'node:crypto';
import { canonicalJson } from './json';

export interface HashedFields {
  seq: number;
  at: number;
  actor: string;
  kind: string;
}

/**
 * The text hashed after prev_hash: canonical JSON of (seq, at, actor, kind, data), keys sorted. `dataJson` is the
 * stored (already canonical) data text, spliced in as is, so verification needs no re-parse and any change to the
 * stored text, even whitespace, changes the hash.
 */
export function hashInput(fields: HashedFields, dataJson: string): string {
  return `{"actor":${JSON.stringify(fields.actor)},"at":${JSON.stringify(fields.at)},"data":${dataJson},"kind":${JSON.stringify(fields.kind)},"seq":${JSON.stringify(fields.seq)}}`;
}

export function auditHash(prevHash: string, fields: HashedFields, dataJson: string): string {
  return createHash('sha256').update(prevHash).update(hashInput(fields, dataJson)).digest('hex');
}

/** Canonical JSON of an entry's data, as stored in the data column. */
export const auditDataJson = (data: unknown): string => canonicalJson(data, 'audit data');
