// The ordered list of schema migrations. Version N is applied once, in its own transaction, after N-1.
// A shipped migration is never edited: change the schema by appending a new entry.
import type { Database } from 'better-sqlite3';
import { indexName, TABLES, triggerName } from './tables';

export interface Migration {
  /** 1, 2, 3, ...: contiguous, in order. */
  version: number;
  /** What it does, for the schema_migrations row and error messages. */
  name: string;
  up(db: Database): void;
}

const T = TABLES;

/** 64 zeros: the prev_hash of the first audit row, and the head of an empty log. */
export const GENESIS_HASH = '0'.repeat(64);

/** The message the audit triggers abort with. */
export const AUDIT_APPEND_ONLY_MESSAGE = 'audit log is append-only';

const v1InitialSchema: Migration = {
  version: 1,
  name: 'initial schema',
  up(db) {
    db.exec(`
      CREATE TABLE ${T.vms} (
        cluster    TEXT    NOT NULL,
        vmid       INTEGER NOT NULL,
        node       TEXT    NOT NULL,
        info       TEXT    NOT NULL CHECK (json_valid(info)),
        state      TEXT    NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (cluster, vmid)
      ) STRICT;

      CREATE TABLE ${T.hosts} (
        cluster    TEXT    NOT NULL,
        node       TEXT    NOT NULL,
        info       TEXT    NOT NULL CHECK (json_valid(info)),
        state      TEXT    NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (cluster, node)
      ) STRICT;

      CREATE TABLE ${T.clusters} (
        cluster    TEXT    NOT NULL PRIMARY KEY,
        info       TEXT    NOT NULL CHECK (json_valid(info)),
        updated_at INTEGER NOT NULL
      ) STRICT;

      CREATE TABLE ${T.requests} (
        id              TEXT    NOT NULL PRIMARY KEY,
        action          TEXT    NOT NULL,
        cluster         TEXT    NOT NULL,
        vmid            INTEGER,
        params          TEXT    NOT NULL CHECK (json_valid(params)),
        force           INTEGER NOT NULL CHECK (force IN (0, 1)),
        requester_id    TEXT    NOT NULL,
        requester_role  TEXT    NOT NULL,
        origin          TEXT    NOT NULL,
        status          TEXT    NOT NULL,
        decision        TEXT,
        reasons         TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(reasons)),
        checks          TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(checks)),
        task_ids        TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(task_ids)),
        idempotency_key TEXT,
        submitted_at    INTEGER NOT NULL,
        updated_at      INTEGER NOT NULL,
        error           TEXT,
        UNIQUE (requester_id, idempotency_key)
      ) STRICT;
      CREATE INDEX ${indexName(T.requests, 'status')} ON ${T.requests} (status);
      CREATE INDEX ${indexName(T.requests, 'requester_id')} ON ${T.requests} (requester_id);
      CREATE INDEX ${indexName(T.requests, 'submitted_at')} ON ${T.requests} (submitted_at);

      CREATE TABLE ${T.requestStatusHistory} (
        request_id TEXT    NOT NULL REFERENCES ${T.requests} (id) ON DELETE CASCADE,
        seq        INTEGER NOT NULL,
        status     TEXT    NOT NULL,
        at         INTEGER NOT NULL,
        by         TEXT,
        note       TEXT,
        PRIMARY KEY (request_id, seq)
      ) STRICT;
      CREATE INDEX ${indexName(T.requestStatusHistory, 'status', 'at')} ON ${T.requestStatusHistory} (status, at);

      CREATE TABLE ${T.actorSnapshots} (
        actor_id   TEXT    NOT NULL PRIMARY KEY,
        kind       TEXT    NOT NULL,
        snapshot   TEXT    NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX ${indexName(T.actorSnapshots, 'kind', 'actor_id')} ON ${T.actorSnapshots} (kind, actor_id);

      CREATE TABLE ${T.audit} (
        seq       INTEGER PRIMARY KEY AUTOINCREMENT,
        at        INTEGER NOT NULL,
        actor     TEXT    NOT NULL,
        kind      TEXT    NOT NULL,
        data      TEXT    NOT NULL,
        prev_hash TEXT    NOT NULL,
        hash      TEXT    NOT NULL
      ) STRICT;
      CREATE INDEX ${indexName(T.audit, 'actor', 'seq')} ON ${T.audit} (actor, seq);
      CREATE TRIGGER ${triggerName(T.audit, 'no_update')} BEFORE UPDATE ON ${T.audit}
      BEGIN SELECT RAISE(ABORT, '${AUDIT_APPEND_ONLY_MESSAGE}'); END;
      CREATE TRIGGER ${triggerName(T.audit, 'no_delete')} BEFORE DELETE ON ${T.audit}
      BEGIN SELECT RAISE(ABORT, '${AUDIT_APPEND_ONLY_MESSAGE}'); END;

      CREATE TABLE ${T.auditHead} (
        id   INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
        seq  INTEGER NOT NULL,
        hash TEXT    NOT NULL
      ) STRICT;
      INSERT INTO ${T.auditHead} (id, seq, hash) VALUES (1, 0, '${GENESIS_HASH}');

      CREATE TABLE ${T.meta} (
        key   TEXT NOT NULL PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;
    `);
  },
};

const v2ApiTokens: Migration = {
  version: 2,
  name: 'api tokens',
  up(db) {
    db.exec(`
      CREATE TABLE ${T.apiTokens} (
        id           TEXT    NOT NULL PRIMARY KEY,
        name         TEXT    NOT NULL,
        role         TEXT    NOT NULL CHECK (role IN ('observer', 'operator', 'admin')),
        hash         TEXT    NOT NULL UNIQUE,
        created_at   INTEGER NOT NULL,
        created_by   TEXT    NOT NULL,
        revoked_at   INTEGER,
        last_used_at INTEGER
      ) STRICT;
    `);
  },
};

const v3Incidents: Migration = {
  version: 3,
  name: 'incidents',
  up(db) {
    db.exec(`
      CREATE TABLE ${T.incidents} (
        id          TEXT    NOT NULL PRIMARY KEY,
        kind        TEXT    NOT NULL,
        subject     TEXT    NOT NULL,
        dedupe_key  TEXT    NOT NULL,
        severity    TEXT    NOT NULL,
        status      TEXT    NOT NULL,
        opened_at   INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL,
        resolved_at INTEGER,
        detail      TEXT    NOT NULL CHECK (json_valid(detail)),
        actions     TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(actions)),
        cause       TEXT,
        outcome     TEXT
      ) STRICT;
      CREATE UNIQUE INDEX ${indexName(T.incidents, 'dedupe_key', 'open')} ON ${T.incidents} (dedupe_key)
        WHERE status <> 'resolved';
      CREATE INDEX ${indexName(T.incidents, 'status')} ON ${T.incidents} (status);
    `);
  },
};

const v4Knowledge: Migration = {
  version: 4,
  name: 'knowledge documents',
  up(db) {
    db.exec(`
      CREATE TABLE ${T.knowledgeDocuments} (
        id         TEXT    NOT NULL PRIMARY KEY,
        source     TEXT    NOT NULL,
        title      TEXT    NOT NULL,
        body       TEXT    NOT NULL,
        metadata   TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
        embedding  BLOB,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      ) STRICT;
      CREATE INDEX ${indexName(T.knowledgeDocuments, 'source')} ON ${T.knowledgeDocuments} (source);
    `);
  },
};

const v5TokenPersons: Migration = {
  version: 5,
  name: 'token and requester persons',
  up(db) {
    // The person a token belongs to, for the two-person rule: its own id unless an admin linked it.
    db.exec(`
      ALTER TABLE ${T.apiTokens} ADD COLUMN person TEXT;
      ALTER TABLE ${T.requests} ADD COLUMN requester_name TEXT;
      ALTER TABLE ${T.requests} ADD COLUMN requester_person TEXT;
    `);
  },
};

const v6Maintenance: Migration = {
  version: 6,
  name: 'maintenance windows and silences',
  up(db) {
    // What an operator told Overseer to leave alone, and until when (`until_at` not included). A row is kept after
    // it ends (`ended_at`, by whom) or runs out, for the record; queries take `now`.
    db.exec(`
      CREATE TABLE ${T.maintenanceWindows} (
        id              TEXT    NOT NULL PRIMARY KEY,
        scope           TEXT    NOT NULL CHECK (scope IN ('guest', 'node', 'tag')),
        target          TEXT    NOT NULL,
        starts_at       INTEGER NOT NULL,
        until_at        INTEGER NOT NULL,
        reason          TEXT    NOT NULL,
        created_by      TEXT    NOT NULL,
        created_by_name TEXT,
        created_at      INTEGER NOT NULL,
        ended_at        INTEGER,
        ended_by        TEXT,
        CHECK (until_at > starts_at)
      ) STRICT;
      CREATE INDEX ${indexName(T.maintenanceWindows, 'until_at')} ON ${T.maintenanceWindows} (until_at);

      CREATE TABLE ${T.silences} (
        id              TEXT    NOT NULL PRIMARY KEY,
        kind            TEXT    NOT NULL,
        guest           TEXT    NOT NULL,
        starts_at       INTEGER NOT NULL,
        until_at        INTEGER NOT NULL,
        reason          TEXT    NOT NULL,
        created_by      TEXT    NOT NULL,
        created_by_name TEXT,
        created_at      INTEGER NOT NULL,
        ended_at        INTEGER,
        ended_by        TEXT,
        CHECK (until_at > starts_at)
      ) STRICT;
      CREATE INDEX ${indexName(T.silences, 'until_at')} ON ${T.silences} (until_at);
    `);
  },
};

const v7BulkRequests: Migration = {
  version: 7,
  name: 'selectors, node targets, bulk members and drains',
  up(db) {
    // A request may name a selector or a node instead of a VMID; a bulk request records its members as decided and
    // each child its parent; a node window set by a drain names that drain.
    db.exec(`
      ALTER TABLE ${T.requests} ADD COLUMN selector TEXT;
      ALTER TABLE ${T.requests} ADD COLUMN node TEXT;
      ALTER TABLE ${T.requests} ADD COLUMN parent_id TEXT;
      ALTER TABLE ${T.requests} ADD COLUMN members TEXT;
      CREATE INDEX ${indexName(T.requests, 'parent_id')} ON ${T.requests} (parent_id) WHERE parent_id IS NOT NULL;
      ALTER TABLE ${T.maintenanceWindows} ADD COLUMN request_id TEXT;
    `);
  },
};

const v8Labs: Migration = {
  version: 8,
  name: 'labs and their status history',
  up(db) {
    // A lab's record: its file, what it created and its members, outside the lab actor's own snapshot (kept in
    // actor_snapshots). A lab name is unique among the live labs of a cluster (ended_at NULL); an ended lab keeps
    // its row and history, and its name may be used again.
    db.exec(`
      CREATE TABLE ${T.labs} (
        id               INTEGER NOT NULL PRIMARY KEY,
        cluster          TEXT    NOT NULL,
        name             TEXT    NOT NULL,
        file             TEXT    NOT NULL,
        spec             TEXT    NOT NULL CHECK (json_valid(spec)),
        status           TEXT    NOT NULL,
        created          TEXT    NOT NULL DEFAULT '[]' CHECK (json_valid(created)),
        members          TEXT    NOT NULL DEFAULT '{}' CHECK (json_valid(members)),
        requester_id     TEXT    NOT NULL,
        requester_role   TEXT    NOT NULL,
        requester_name   TEXT,
        requester_person TEXT,
        created_at       INTEGER NOT NULL,
        updated_at       INTEGER NOT NULL,
        ended_at         INTEGER,
        error            TEXT
      ) STRICT;
      CREATE UNIQUE INDEX ${indexName(T.labs, 'cluster', 'name', 'live')} ON ${T.labs} (cluster, name)
        WHERE ended_at IS NULL;
      CREATE INDEX ${indexName(T.labs, 'cluster', 'name')} ON ${T.labs} (cluster, name);
      CREATE INDEX ${indexName(T.labs, 'status')} ON ${T.labs} (status);

      CREATE TABLE ${T.labEvents} (
        lab_id INTEGER NOT NULL REFERENCES ${T.labs} (id) ON DELETE CASCADE,
        seq    INTEGER NOT NULL,
        status TEXT    NOT NULL,
        at     INTEGER NOT NULL,
        by     TEXT,
        note   TEXT,
        PRIMARY KEY (lab_id, seq)
      ) STRICT;
    `);
  },
};

/**
 * The monitor reads a subject's incident history (its last 50, newest first) each time it remediates: without this
 * index every such read scanned and sorted the whole incidents table, which only grows.
 */
const v9IncidentHistory: Migration = {
  version: 9,
  name: 'incident history by subject',
  up(db) {
    db.exec(`
      CREATE INDEX ${indexName(T.incidents, 'subject', 'opened_at')} ON ${T.incidents} (subject, opened_at DESC, id);
    `);
  },
};

/**
 * Two indexes nothing reads, written on every decision: the status history's (status, at) (no query looks a status
 * up across requests; a request's history is read by its id) and the requests' requester_id (the UNIQUE
 * (requester_id, idempotency_key) index serves `requester_id = ?`). A denied decision's commit wrote 24 pages to
 * the WAL, 5.3 of them for these two (bench/README.md, session 6).
 */
const v10UnreadIndexes: Migration = {
  version: 10,
  name: 'drop indexes nothing reads',
  up(db) {
    db.exec(`
      DROP INDEX IF EXISTS ${indexName(T.requestStatusHistory, 'status', 'at')};
      DROP INDEX IF EXISTS ${indexName(T.requests, 'requester_id')};
    `);
  },
};

/**
 * A VM's inventory row said again what its actor's snapshot says (its info and its state), and every change of a VM
 * wrote both: two rows and two JSON texts per change (a flip of 10k VMs wrote 2,385 WAL pages, 1,655 without them;
 * bench/vm-flips.ts). Nothing in the core read the table. It becomes a view of the VM actors' snapshots with the same
 * name and columns, so the inventory reads as before and is never out of step with the actors.
 */
const v11VmInventoryView: Migration = {
  version: 11,
  name: 'VM inventory as a view of the VM actor snapshots',
  up(db) {
    db.exec(`
      DROP TABLE ${T.vms};
      CREATE VIEW ${T.vms} (cluster, vmid, node, info, state, updated_at) AS
        SELECT json_extract(snapshot, '$.context.info.cluster'), json_extract(snapshot, '$.context.info.vmid'),
               json_extract(snapshot, '$.context.info.node'), json_extract(snapshot, '$.context.info'),
               json_extract(snapshot, '$.value'), updated_at
        FROM ${T.actorSnapshots} WHERE kind = 'vm';
    `);
  },
};

/**
 * The audit's (actor, seq) index without Overseer's own rows. Each decision appends a row for its requester and
 * several under 'overseer' (its status changes); the two actors' entries sit in different parts of the index, so
 * every commit wrote two leaves of it, and the requester's, in the middle of the index, made SQLite rebalance
 * sibling pages: 5 of the 15 pages a lone denied decision wrote (bench/decision-writes.ts). Overseer's rows are most
 * of the log, so listing them reads the table in order anyway; every other actor's rows are still found through the
 * index (state/audit-log.ts `list`).
 */
const v12AuditActorIndexWithoutSelf: Migration = {
  version: 12,
  name: "audit (actor, seq) index without Overseer's own rows",
  up(db) {
    const name = indexName(T.audit, 'actor', 'seq');
    db.exec(`
      DROP INDEX IF EXISTS ${name};
      CREATE INDEX ${name} ON ${T.audit} (actor, seq) WHERE actor <> 'overseer';
    `);
  },
};

/**
 * The status history as a WITHOUT ROWID table: its rows are small and always found by their primary key
 * (request_id, seq), which a rowid table keeps in an index beside the table, so every decision's commit wrote a page
 * of each. Now the table is that index (one page less per commit). Rebuilt with its rows in one transaction.
 */
const v13HistoryWithoutRowid: Migration = {
  version: 13,
  name: 'request status history without rowid',
  up(db) {
    db.exec(`
      CREATE TABLE ${T.requestStatusHistory}_v13 (
        request_id TEXT    NOT NULL REFERENCES ${T.requests} (id) ON DELETE CASCADE,
        seq        INTEGER NOT NULL,
        status     TEXT    NOT NULL,
        at         INTEGER NOT NULL,
        by         TEXT,
        note       TEXT,
        PRIMARY KEY (request_id, seq)
      ) STRICT, WITHOUT ROWID;
      INSERT INTO ${T.requestStatusHistory}_v13 (request_id, seq, status, at, by, note)
        SELECT request_id, seq, status, at, by, note FROM ${T.requestStatusHistory};
      DROP TABLE ${T.requestStatusHistory};
      ALTER TABLE ${T.requestStatusHistory}_v13 RENAME TO ${T.requestStatusHistory};
    `);
  },
};

/** Every migration this code knows, in order. */
export const MIGRATIONS: readonly Migration[] = [
  v1InitialSchema,
  v2ApiTokens,
  v3Incidents,
  v4Knowledge,
  v5TokenPersons,
  v6Maintenance,
  v7BulkRequests,
  v8Labs,
  v9IncidentHistory,
  v10UnreadIndexes,
  v11VmInventoryView,
  v12AuditActorIndexWithoutSelf,
  v13HistoryWithoutRowid,
];

/** The schema version this code writes. */
export const LATEST_SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;
