// `overseer token recover`: access back for whoever operates the host. When no admin token works any more (revoked,
// lost), the person who can read the data dir — the SQLite file and the audit key beside it — creates a new admin
// token there, without the gateway and without a token. The file permissions are the gate: recovery needs what
// running Overseer needs.
//
// Safe while the core runs: SQLite in WAL mode lets this process write beside the core's connection; the write is one
// BEGIN IMMEDIATE transaction (the token row and its audit row), waiting up to the busy timeout (5 s) for the core's
// writes; the audit row chains from the last row present, under the audit key, so the chain stays intact; the core
// reads tokens from the database, so the new token works at once, no restart. A database whose schema this code does
// not match is left alone (no migration under a running core).
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { OVERSEER_ID } from '../machines/types';
import { TokenNameSchema } from '../protocol';
import { LATEST_SCHEMA_VERSION, StateStore, schemaVersion } from '../state';
import { auditKeyPath, readAuditKey } from './audit-startup';
import { loadConfig } from './config';

/** The audit kind of a recovery. */
export const TOKEN_RECOVERED_KIND = 'token.recovered';
/** Who recovers, in the audit log and as the token's creator: the host's operator, not a token. */
export const HOST_OPERATOR = 'host-operator';
/** The name of a recovered token unless told otherwise. */
export const RECOVERED_TOKEN_NAME = 'recovered-admin';
const DB_FILE = 'overseer.db';
const ADMIN_TOKEN_FILE = 'admin.token';

/** Recovery cannot be done here: no database, another schema, a bad name or key. Says what to do. */
export class TokenRecoveryError extends Error {
  override name = 'TokenRecoveryError';
}

export interface RecoverAdminOptions {
  /** The data dir (absolute). */
  dataDir: string;
  /** OVERSEER_CONFIG and OVERSEER_AUDIT_KEY_FILE are read from it, as `serve` reads them. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
  /** Default RECOVERED_TOKEN_NAME. */
  name?: string | undefined;
  /** true (default): write the token to `<dataDir>/admin.token` (0600); false: only return it (to print). */
  writeFile?: boolean | undefined;
  /** Default Date.now. */
  now?: (() => number) | undefined;
  /** Who runs it; default this process's user and host. */
  operator?: { user: string; host: string } | undefined;
}

export interface RecoveredAdmin {
  id: string;
  name: string;
  role: 'admin';
  /** The plaintext (also in `file` when it was written). */
  token: string;
  /** Where it was written, when it was. */
  file?: string | undefined;
  /** Active admin tokens before this one. */
  activeAdminsBefore: number;
  /** The audit row that records it. */
  auditSeq: number;
}

/** Creates a new admin token in the data dir's database, audited as `token.recovered` by the host operator. */
export function recoverAdminToken(options: RecoverAdminOptions): RecoveredAdmin {
  const { dataDir } = options;
  const env = options.env ?? {};
  const name = options.name ?? RECOVERED_TOKEN_NAME;
  const parsedName = TokenNameSchema.safeParse(name);
  if (!parsedName.success || name.toLowerCase() === OVERSEER_ID) {
    const why = parsedName.success
      ? `'${OVERSEER_ID}' is the Overseer's own name`
      : (parsedName.error.issues[0]?.message ?? 'invalid');
    throw new TokenRecoveryError(`--name '${name}' cannot be a token's name: ${why}`);
  }
  const dbPath = join(dataDir, DB_FILE);
  if (!existsSync(dbPath)) {
    throw new TokenRecoveryError(
      `no Overseer database in ${dataDir} (${DB_FILE}): point OVERSEER_DATA_DIR or --data-dir at the data dir of the Overseer whose access to recover`,
    );
  }
  assertSchemaMatches(dbPath);

  const configPath =
    env.OVERSEER_CONFIG || (existsSync(join(dataDir, 'overseer.json')) ? join(dataDir, 'overseer.json') : undefined);
  const config = loadConfig(configPath);
  const keyPath = auditKeyPath(dataDir, env as NodeJS.ProcessEnv, config.audit.keyFile);
  const auditKey = readAuditKey(keyPath);
  const now = options.now ?? Date.now;
  const operator = options.operator ?? { user: userInfo().username, host: hostname() };

  const store = StateStore.open(dbPath, { auditKey, synchronous: config.state.synchronous, now });
  try {
    const keyProblem = store.audit.verify().problem;
    if (keyProblem?.kind === 'wrong-key') {
      throw new TokenRecoveryError(
        `the audit key ${keyPath} is not the one this database's audit log is written with (${keyProblem.sentence}): set OVERSEER_AUDIT_KEY_FILE to the key Overseer uses`,
      );
    }
    const file = options.writeFile === false ? undefined : join(dataDir, ADMIN_TOKEN_FILE);
    const at = now();
    return store.transaction(() => {
      const activeAdminsBefore = store.tokens
        .list()
        .filter((t) => t.role === 'admin' && t.revokedAt === undefined).length;
      const { record, token } = store.tokens.create(name, 'admin', HOST_OPERATOR, at);
      const row = store.audit.append({
        at,
        actor: HOST_OPERATOR,
        kind: TOKEN_RECOVERED_KIND,
        data: {
          id: record.id,
          name,
          role: 'admin',
          user: operator.user,
          host: operator.host,
          activeAdminsBefore,
          ...(file ? { file } : { printed: true }),
        },
      });
      // Written before the commit: a token nobody received is never left active.
      if (file) writeSecretFile(file, `${token}\n`);
      return {
        id: record.id,
        name,
        role: 'admin' as const,
        token,
        ...(file ? { file } : {}),
        activeAdminsBefore,
        auditSeq: row.seq,
      };
    });
  } finally {
    store.close();
  }
}

/** The database's schema is this code's: recovery never migrates a database under a running core. */
function assertSchemaMatches(dbPath: string): void {
  let version: number;
  const db = new BetterSqlite3(dbPath, { readonly: true, fileMustExist: true, timeout: 5_000 });
  try {
    version = schemaVersion(db);
  } finally {
    db.close();
  }
  if (version !== LATEST_SCHEMA_VERSION) {
    throw new TokenRecoveryError(
      `${dbPath} is at schema version ${version}, this Overseer's is ${LATEST_SCHEMA_VERSION}: recover with the Overseer version that runs on it${version < LATEST_SCHEMA_VERSION ? ' (or start this one once: it migrates the database)' : ''}`,
    );
  }
}

/** Writes `text` to `path` with mode 0600: a temporary file, synced, then renamed into place. */
function writeSecretFile(path: string, text: string): void {
  const temp = `${path}.${process.pid}.tmp`;
  // A leftover of a crashed run could have other permissions: never reuse it.
  rmSync(temp, { force: true });
  const fd = openSync(temp, 'wx', 0o600);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temp, path);
  } catch (err) {
    unlinkSync(temp);
    throw err;
  }
}
