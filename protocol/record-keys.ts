// The keys of the record bucket (DESIGN §14), built and parsed here only: `<cluster>.<kind>.<id>`, where each token
// is the cluster name, request id, incident id, ... encoded to the characters a JetStream KV key allows. Letters,
// digits, '-' and '_' stand for themselves; every other byte of the value's UTF-8 is `=XX` (two upper-case hex
// digits), so encoding is reversible and two values never share a key. A cluster token never starts with '_': the
// tokens of every core (`_global`) cannot be taken by a cluster named so.
// A lab is keyed by its name and its creation time (`<cluster>.lab.<name>.<createdAt>`): a name used again after its
// lab ended is another lab, and each core numbers its lab rows on its own. A maintenance window and a silence are
// kept under the cluster they belong to (`<cluster>.maintenance.<id>`, `<cluster>.silence.<id>`).

/** The entity kinds of the record. */
export const RECORD_KINDS = ['request', 'incident', 'lab', 'token', 'maintenance', 'silence'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

/** The cluster token of what every core shares (API tokens). */
export const GLOBAL_RECORD_SCOPE = '_global';

/** Longest key accepted (the KV subject `$KV.<bucket>.<key>` stays well inside NATS limits). */
export const MAX_RECORD_KEY_LENGTH = 1024;

/** A record key that cannot be built or parsed. */
export class RecordKeyError extends Error {
  override name = 'RecordKeyError';
  constructor(
    message: string,
    readonly key: string,
  ) {
    super(message);
  }
}

const PLAIN = /^[A-Za-z0-9_-]$/;
const TOKEN = /^(?:[A-Za-z0-9_-]|=[0-9A-F]{2})+$/;
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** One key token for `value` (a non-empty string). */
export function encodeKeyToken(value: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new RecordKeyError(`a record key token must be a non-empty string (got '${String(value)}')`, String(value));
  }
  let out = '';
  for (const byte of encoder.encode(value)) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && PLAIN.test(ch) ? ch : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** The value a key token stands for; RecordKeyError when it is not one encodeKeyToken makes. */
export function decodeKeyToken(token: string, key = token): string {
  if (!TOKEN.test(token)) throw new RecordKeyError(`record key '${key}': '${token}' is not an encoded token`, key);
  const bytes: number[] = [];
  for (let i = 0; i < token.length; i++) {
    if (token[i] === '=') {
      bytes.push(Number.parseInt(token.slice(i + 1, i + 3), 16));
      i += 2;
    } else bytes.push(token.charCodeAt(i));
  }
  let value: string;
  try {
    value = decoder.decode(new Uint8Array(bytes));
  } catch {
    throw new RecordKeyError(`record key '${key}': '${token}' is not UTF-8 once decoded`, key);
  }
  if (encodeKeyToken(value) !== token) {
    throw new RecordKeyError(`record key '${key}': '${token}' is not the canonical encoding of its value`, key);
  }
  return value;
}

/** A cluster's token: encoded, and never starting with '_' (reserved for `_global`). */
export function clusterToken(cluster: string): string {
  const token = encodeKeyToken(cluster);
  return token.startsWith('_') ? `=5F${token.slice(1)}` : token;
}

/** The cluster a cluster token stands for; RecordKeyError when it is not one clusterToken makes. */
function decodeClusterToken(token: string, key: string): string {
  const cluster = decodeKeyToken(token.startsWith('=5F') ? `_${token.slice(3)}` : token, key);
  if (clusterToken(cluster) !== token) {
    throw new RecordKeyError(`record key '${key}': '${token}' is not the canonical token of a cluster`, key);
  }
  return cluster;
}

/** The prefix of every key of one cluster (`<cluster>.`); with `kind`, of one kind (`<cluster>.<kind>.`). */
export function recordPrefix(cluster: string, kind?: RecordKind): string {
  return `${clusterToken(cluster)}.${kind ? `${kind}.` : ''}`;
}

/** The key of each entity. */
export const recordKey = {
  request: (cluster: string, id: string): string => `${recordPrefix(cluster, 'request')}${encodeKeyToken(id)}`,
  incident: (cluster: string, id: string): string => `${recordPrefix(cluster, 'incident')}${encodeKeyToken(id)}`,
  lab: (cluster: string, name: string, createdAt: number): string => {
    if (!Number.isSafeInteger(createdAt) || createdAt < 0) {
      throw new RecordKeyError(`a lab's creation time must be epoch ms (got ${createdAt})`, name);
    }
    return `${recordPrefix(cluster, 'lab')}${encodeKeyToken(name)}.${createdAt}`;
  },
  token: (id: string): string => `${GLOBAL_RECORD_SCOPE}.token.${encodeKeyToken(id)}`,
  maintenance: (cluster: string, id: string): string => `${recordPrefix(cluster, 'maintenance')}${encodeKeyToken(id)}`,
  silence: (cluster: string, id: string): string => `${recordPrefix(cluster, 'silence')}${encodeKeyToken(id)}`,
} as const;

/** The kinds keyed `<cluster>.<kind>.<id>`. */
type KeyedById = 'request' | 'incident' | 'maintenance' | 'silence';
const BY_ID = new Set<string>(['request', 'incident', 'maintenance', 'silence'] satisfies KeyedById[]);

/** What a key names. `cluster` is undefined for the global scope. */
export type ParsedRecordKey =
  | { kind: KeyedById; cluster: string; id: string }
  | { kind: 'lab'; cluster: string; name: string; createdAt: number }
  | { kind: 'token'; cluster: undefined; id: string };

/** Parses a key built by recordKey; RecordKeyError naming the key otherwise. */
export function parseRecordKey(key: string): ParsedRecordKey {
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_RECORD_KEY_LENGTH) {
    throw new RecordKeyError(`record key '${String(key).slice(0, 80)}' is empty or too long`, String(key));
  }
  const [scope, kind, ...rest] = key.split('.');
  const bad = (why: string) => new RecordKeyError(`record key '${key}': ${why}`, key);
  if (!scope || !kind || rest.length === 0) throw bad("expected '<cluster>.<kind>.<id>'");
  if (kind === 'token') {
    if (scope !== GLOBAL_RECORD_SCOPE) throw bad(`tokens are kept under '${GLOBAL_RECORD_SCOPE}'`);
    if (rest.length !== 1) throw bad('a token key has one id token');
    return { kind, cluster: undefined, id: decodeKeyToken(rest[0] as string, key) };
  }
  if (scope === GLOBAL_RECORD_SCOPE || scope.startsWith('_')) throw bad(`'${scope}' is not a cluster token`);
  const cluster = decodeClusterToken(scope, key);
  if (BY_ID.has(kind)) {
    if (rest.length !== 1) throw bad(`a ${kind} key has one id token`);
    return { kind: kind as KeyedById, cluster, id: decodeKeyToken(rest[0] as string, key) };
  }
  if (kind === 'lab') {
    const [name, at] = rest;
    if (rest.length !== 2 || !name || !at || !/^(0|[1-9][0-9]{0,15})$/.test(at)) {
      throw bad("a lab key is '<cluster>.lab.<name>.<createdAt>'");
    }
    return { kind, cluster, name: decodeKeyToken(name, key), createdAt: Number(at) };
  }
  throw bad(`unknown kind '${kind}' (one of ${RECORD_KINDS.join(', ')})`);
}
