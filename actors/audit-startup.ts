// Start-up of the keyed audit chain: the audit key (a file outside the SQLite database, created on first start) and
// what a broken chain does at start-up: a critical incident, an audit row, an incident event and a notification.
import { randomBytes, randomUUID } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import type { Notifier } from '../adapters/notify';
import type { IncidentNotice } from '../machines/incident.machine';
import { subjects } from '../protocol';
import type { AuditVerification, IncidentRecord, StateStore } from '../state';
import { AUDIT_KEY_BYTES, AuditKey } from '../state';

/** The key's file name in the data dir. */
export const AUDIT_KEY_FILE = 'audit.key';
/** Environment variable naming another key file. */
export const AUDIT_KEY_FILE_ENV = 'OVERSEER_AUDIT_KEY_FILE';

/** The incident a broken chain opens. */
export const AUDIT_INCIDENT_KIND = 'audit-chain-broken';
/** What the incident is about: the Overseer's own record. */
export const AUDIT_INCIDENT_SUBJECT = 'overseer';

/** The audit key file is missing where it must exist, unreadable, or not a key. */
export class AuditKeyError extends Error {
  override name = 'AuditKeyError';
  constructor(
    message: string,
    readonly path: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Where the key is: $OVERSEER_AUDIT_KEY_FILE (relative to the working directory), else the configured file (relative
 * to the data dir), else `<dataDir>/audit.key`.
 */
export function auditKeyPath(dataDir: string, env: NodeJS.ProcessEnv = {}, configured?: string): string {
  const fromEnv = env[AUDIT_KEY_FILE_ENV];
  if (fromEnv) return resolve(fromEnv);
  return configured ? resolve(dataDir, configured) : join(dataDir, AUDIT_KEY_FILE);
}

/** The key in `path`: 32 raw bytes, or 64 hex digits (with an optional trailing newline). */
export function readAuditKey(path: string): AuditKey {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (cause) {
    throw new AuditKeyError(`cannot read the audit key ${path}: ${(cause as Error).message}`, path, { cause });
  }
  if (bytes.length === AUDIT_KEY_BYTES) return new AuditKey(bytes);
  const text = bytes.toString('latin1').trim();
  if (/^[0-9a-fA-F]{64}$/.test(text)) return new AuditKey(Buffer.from(text, 'hex'));
  throw new AuditKeyError(
    `${path} is not an audit key: expected ${AUDIT_KEY_BYTES} bytes (or ${AUDIT_KEY_BYTES * 2} hex digits), found ${bytes.length} bytes`,
    path,
  );
}

export interface LoadedAuditKey {
  key: AuditKey;
  path: string;
  /** True when this call created the file. */
  created: boolean;
}

/**
 * The key in `path`, created first when there is no file: 32 random bytes, mode 0600, written to a temporary file
 * and linked into place, so a crash or a second process never leaves a half-written key. Warns when an existing
 * file can be read by group or others.
 */
export function loadOrCreateAuditKey(path: string, log?: Pick<Log, 'info' | 'warn'>): LoadedAuditKey {
  let created = false;
  if (!exists(path)) {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    const temp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    const fd = openSync(temp, 'wx', 0o600);
    try {
      writeSync(fd, randomBytes(AUDIT_KEY_BYTES));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(temp, path);
      created = true;
    } catch (cause) {
      // Another process created it first: theirs stands.
      if ((cause as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new AuditKeyError(`cannot create the audit key ${path}: ${(cause as Error).message}`, path, { cause });
      }
    } finally {
      unlinkSync(temp);
    }
    if (created) chmodSync(path, 0o600);
  }
  const key = readAuditKey(path);
  if (created) log?.info(`created the audit key ${key.id} in ${path}; keep it (and a copy) outside the database`);
  else {
    const mode = statSync(path).mode & 0o777;
    if (mode & 0o077) {
      log?.warn(`the audit key ${path} is readable by others (mode ${mode.toString(8)}); chmod 600 it`);
    }
  }
  return { key, path, created };
}

function exists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new AuditKeyError(`cannot read the audit key ${path}: ${(err as Error).message}`, path, { cause: err });
  }
}

export interface AuditReportDeps {
  store: StateStore;
  log: Pick<Log, 'error'>;
  clock: Pick<Clock, 'now'>;
  notifier?: Pick<Notifier, 'notify'> | undefined;
  /** Publishes the incident event (`overseer.evt.incident.<id>.open`) when given. */
  publish?: ((subject: string, payload: unknown) => void) | undefined;
  /** Incident ids; default random UUIDs. */
  newId?: (() => string) | undefined;
}

export interface AuditReport {
  incident: IncidentRecord;
  /** False when the incident was already open: the sighting is counted (and its detail updated), not notified. */
  created: boolean;
}

/**
 * A broken chain at start-up (or found by the checkpoints): opens one critical `audit-chain-broken` incident, audits
 * it, publishes the incident event and notifies. While that incident is open, seeing the chain broken again (the next
 * start, another problem) counts a sighting and updates its detail without notifying again. Returns undefined for an
 * intact chain.
 */
export function reportBrokenAudit(verification: AuditVerification, deps: AuditReportDeps): AuditReport | undefined {
  const problem = verification.problem;
  if (verification.ok || !problem) return undefined;
  const { store, log, clock } = deps;
  const at = clock.now();
  const detail = `the audit log is damaged at row ${problem.row} (${problem.kind}): ${problem.sentence}`;
  const data = {
    row: problem.row,
    kind: problem.kind,
    sentence: problem.sentence,
    rows: verification.rows,
    keyedFrom: verification.keyedFrom,
    head: verification.head,
    checkpoint: verification.checkpoint,
    ...(problem.recordedAt !== undefined ? { recordedAt: problem.recordedAt } : {}),
  };
  const { incident, created } = store.incidents.open({
    id: deps.newId ? deps.newId() : randomUUID(),
    kind: AUDIT_INCIDENT_KIND,
    subject: AUDIT_INCIDENT_SUBJECT,
    dedupeKey: `${AUDIT_INCIDENT_KIND}:${AUDIT_INCIDENT_SUBJECT}`,
    severity: 'critical',
    detail,
    data,
    openedAt: at,
  });
  log.error(`incident:${incident.id}: ${detail}`);
  if (!created) {
    const seen = store.incidents.update(
      incident.id,
      { occurrences: incident.occurrences + 1, lastSeenAt: at, detail, data },
      at,
    );
    return { incident: seen, created };
  }

  const notice: IncidentNotice = {
    type: 'incident.opened',
    incidentId: incident.id,
    status: incident.status,
    at,
    kind: AUDIT_INCIDENT_KIND,
    subject: AUDIT_INCIDENT_SUBJECT,
    severity: 'critical',
    message: detail,
  };
  try {
    store.audit.append({ at, actor: 'overseer', kind: 'incident.opened', data: notice });
  } catch (error) {
    // The chain is broken, not closed: appending goes on. Only a keyed chain opened without its key refuses.
    log.error(`incident:${incident.id}: could not audit the incident`, error);
  }
  deps.publish?.(subjects.evtIncident(incident.id, incident.status), notice);
  deps.notifier?.notify({
    key: `${incident.id}:${notice.type}`,
    severity: 'critical',
    title: `incident opened: ${AUDIT_INCIDENT_KIND} on ${AUDIT_INCIDENT_SUBJECT}`,
    text: detail,
    subject: AUDIT_INCIDENT_SUBJECT,
    at,
    data: notice,
  });
  return { incident, created };
}
