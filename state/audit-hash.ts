// The audit chain's links. A row written before the chain was keyed links with sha256(prev_hash + canonical JSON of
// {actor, at, data, kind, seq}); a keyed row with HMAC-SHA256 over the same text, under the audit key. The key lives
// outside the SQLite file, so someone who can only write the database cannot recompute a keyed link.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';
import { canonicalJson } from './json';

export interface HashedFields {
  seq: number;
  at: number;
  actor: string;
  kind: string;
}

/** Length of an audit key in bytes. */
export const AUDIT_KEY_BYTES = 32;

const KEY_ID_LABEL = 'overseer audit key id';
const KEYING_MARKER_LABEL = 'overseer audit keyed from';
const CHECKPOINT_LABEL = 'overseer audit checkpoint';

/**
 * The audit key: 32 secret bytes, and its public id (the first 16 hex digits of an HMAC of a fixed label, so it
 * names the key without revealing it). Printing, logging or serialising it shows only the id.
 */
export class AuditKey {
  readonly id: string;
  readonly #bytes: Buffer;

  constructor(bytes: Uint8Array) {
    if (bytes.length !== AUDIT_KEY_BYTES) {
      throw new RangeError(`an audit key is ${AUDIT_KEY_BYTES} bytes, got ${bytes.length}`);
    }
    this.#bytes = Buffer.from(bytes);
    this.id = this.mac(KEY_ID_LABEL).slice(0, 16);
  }

  /** HMAC-SHA256 of the parts, concatenated, as hex. */
  mac(...parts: string[]): string {
    const hmac = createHmac('sha256', this.#bytes);
    for (const part of parts) hmac.update(part);
    return hmac.digest('hex');
  }

  toJSON(): { keyId: string } {
    return { keyId: this.id };
  }

  toString(): string {
    return `AuditKey(${this.id})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }
}

/**
 * The text hashed after prev_hash: canonical JSON of (seq, at, actor, kind, data), keys sorted. `dataJson` is the
 * stored (already canonical) data text, spliced in as is, so verification needs no re-parse and any change to the
 * stored text, even whitespace, changes the hash.
 */
export function hashInput(fields: HashedFields, dataJson: string): string {
  return `{"actor":${JSON.stringify(fields.actor)},"at":${JSON.stringify(fields.at)},"data":${dataJson},"kind":${JSON.stringify(fields.kind)},"seq":${JSON.stringify(fields.seq)}}`;
}

/** The unkeyed link: sha256(prev_hash + hashInput). Rows before the chain was keyed carry it. */
export function auditHash(prevHash: string, fields: HashedFields, dataJson: string): string {
  return createHash('sha256').update(prevHash).update(hashInput(fields, dataJson)).digest('hex');
}

/** The keyed link: HMAC-SHA256(key, prev_hash + hashInput). */
export function auditHmac(key: AuditKey, prevHash: string, fields: HashedFields, dataJson: string): string {
  return key.mac(prevHash, hashInput(fields, dataJson));
}

/** What the keying marker (kept in the meta table) says: keyed rows start at `seq`, under the key `keyId`. */
export interface KeyingMarker {
  seq: number;
  keyId: string;
  mac: string;
}

/** The MAC that binds a keying marker to the key, so it cannot be moved without the key. */
export const keyingMarkerMac = (key: AuditKey, seq: number, keyId: string): string =>
  key.mac(KEYING_MARKER_LABEL, '\n', String(seq), '\n', keyId);

/** The MAC of a checkpoint: over the canonical JSON of every field but `mac`. */
export function checkpointMac(key: AuditKey, checkpoint: object): string {
  const { mac: _mac, ...fields } = checkpoint as { mac?: unknown };
  return key.mac(CHECKPOINT_LABEL, '\n', canonicalJson(fields, 'audit checkpoint'));
}

/** Compares two hex digests in constant time (false when the lengths differ). */
export function sameDigest(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Canonical JSON of an entry's data, as stored in the data column. */
export const auditDataJson = (data: unknown): string => canonicalJson(data, 'audit data');
