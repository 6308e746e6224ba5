// Which record entities (DESIGN §14) the commits of ONE connection changed: TEMP triggers on the tables an entity is
// made of write the entity's id into a TEMP table, in the same transaction as the change (a rollback takes the mark
// back with it). Temp objects exist on the connection that created them only, so a store without a tracker (the
// single-core default) never has them. The record shipper (actors/record-shipper.ts) takes the marks, exports each
// entity and puts it in the record; what it could not ship it puts back.
import type { Database } from 'better-sqlite3';
import { StatementCache } from './statements';
import { TABLES, type TableName } from './tables';

/**
 * What a mark names: a request (its id), an incident (its id), a lab row (its row id), the current lab of a name
 * (`<cluster>/<name>`, from the lab actor's snapshot), an API token (its id), a maintenance window or a silence (its
 * id: started, ended early; one that runs out changes no row, and the record has its end already).
 */
export type DirtyKind = 'request' | 'incident' | 'lab' | 'lab-actor' | 'token' | 'maintenance' | 'silence';

export interface DirtyEntity {
  kind: DirtyKind;
  id: string;
}

/** The TEMP table of marks. */
export const RECORD_DIRTY_TABLE = 'record_dirty';

const T = TABLES;
const DIRTY = `temp.${RECORD_DIRTY_TABLE}`;

/**
 * `INSERT` of one mark unless it is there already (no conflict clause: the firing statement's would override it).
 * A trigger names the table it writes unqualified; for a TEMP trigger that is the TEMP table first.
 */
const mark = (kind: string, id: string): string =>
  `INSERT INTO ${RECORD_DIRTY_TABLE} (kind, id) SELECT ${kind}, ${id}
     WHERE NOT EXISTS (SELECT 1 FROM ${RECORD_DIRTY_TABLE} WHERE kind = ${kind} AND id = ${id});`;

interface TriggerSpec {
  table: TableName;
  name: string;
  /** `INSERT`, `UPDATE` or `UPDATE OF <columns>`. */
  event: string;
  when?: string;
  body: string;
}

/** The snapshot of an actor the record keeps: a request's, an incident's, a lab's. */
const SNAPSHOT_MARKS = [
  { prefix: 'req:', kind: "'request'" },
  { prefix: 'incident:', kind: "'incident'" },
  { prefix: 'lab:', kind: "'lab-actor'" },
];

function triggers(): TriggerSpec[] {
  const both = (table: TableName, what: string, body: string, updateOf?: string): TriggerSpec[] => [
    { table, name: `${what}_ins`, event: 'INSERT', body },
    { table, name: `${what}_upd`, event: updateOf ? `UPDATE OF ${updateOf}` : 'UPDATE', body },
  ];
  const out: TriggerSpec[] = [
    ...both(T.requests, 'request', mark("'request'", 'NEW.id')),
    {
      table: T.requestStatusHistory,
      name: 'request_history_ins',
      event: 'INSERT',
      body: mark("'request'", 'NEW.request_id'),
    },
    ...both(T.incidents, 'incident', mark("'incident'", 'NEW.id')),
    ...both(T.labs, 'lab', mark("'lab'", 'CAST(NEW.id AS TEXT)')),
    { table: T.labEvents, name: 'lab_event_ins', event: 'INSERT', body: mark("'lab'", 'CAST(NEW.lab_id AS TEXT)') },
    // When a token was last used is each core's own: only the columns the record keeps.
    ...both(
      T.apiTokens,
      'token',
      mark("'token'", 'NEW.id'),
      'name, role, hash, created_at, created_by, revoked_at, person',
    ),
    ...both(T.maintenanceWindows, 'maintenance', mark("'maintenance'", 'NEW.id')),
    ...both(T.silences, 'silence', mark("'silence'", 'NEW.id')),
  ];
  for (const { prefix, kind } of SNAPSHOT_MARKS) {
    const id = `substr(NEW.actor_id, ${prefix.length + 1})`;
    const when = `substr(NEW.actor_id, 1, ${prefix.length}) = '${prefix}'`;
    const what = `snapshot_${prefix.slice(0, -1)}`;
    for (const t of both(T.actorSnapshots, what, mark(kind, id))) out.push({ ...t, when });
  }
  return out;
}

const triggerId = (t: TriggerSpec): string => `record_dirty_${t.table}_${t.name}`;

/** The marks of one connection's commits. Create it once per connection (install), uninstall to drop the objects. */
export class RecordDirtyTracker {
  private readonly stmts: StatementCache;
  private readonly specs = triggers();
  private installed = false;

  constructor(private readonly db: Database) {
    this.stmts = new StatementCache(db);
  }

  /** Creates the TEMP table and triggers on this connection (again after uninstall). */
  install(): this {
    if (this.installed) return this;
    const sql = [
      `CREATE TEMP TABLE IF NOT EXISTS ${RECORD_DIRTY_TABLE} (
         kind TEXT NOT NULL,
         id   TEXT NOT NULL,
         PRIMARY KEY (kind, id)
       ) WITHOUT ROWID;`,
      ...this.specs.map(
        (t) =>
          `CREATE TEMP TRIGGER IF NOT EXISTS ${triggerId(t)} AFTER ${t.event} ON main.${t.table}` +
          `${t.when ? ` WHEN ${t.when}` : ''} BEGIN ${t.body} END;`,
      ),
    ];
    this.db.transaction(() => {
      for (const s of sql) this.db.exec(s);
    })();
    this.installed = true;
    return this;
  }

  /** Drops the triggers and the marks (nothing is tracked after). */
  uninstall(): void {
    if (!this.installed || !this.db.open) return;
    this.db.transaction(() => {
      for (const t of this.specs) this.db.exec(`DROP TRIGGER IF EXISTS temp.${triggerId(t)};`);
      this.db.exec(`DROP TABLE IF EXISTS ${DIRTY};`);
    })();
    this.installed = false;
  }

  /** How many entities are marked. */
  count(): number {
    if (!this.installed) return 0;
    return (this.stmts.get<{ n: number }>(`SELECT count(*) AS n FROM ${DIRTY}`).get() as { n: number }).n;
  }

  /** Takes every mark: returned and removed in one transaction. */
  take(): DirtyEntity[] {
    if (!this.installed) return [];
    return this.db.transaction(() => {
      const rows = this.stmts.get<DirtyEntity>(`SELECT kind, id FROM ${DIRTY}`).all() as DirtyEntity[];
      if (rows.length > 0) this.stmts.get(`DELETE FROM ${DIRTY}`).run();
      return rows;
    })();
  }

  /** Marks entities again (what could not be shipped). */
  restore(entities: readonly DirtyEntity[]): void {
    if (entities.length === 0 || !this.installed || !this.db.open) return;
    const put = this.stmts.get(`INSERT OR IGNORE INTO ${DIRTY} (kind, id) VALUES (?, ?)`);
    this.db.transaction(() => {
      for (const e of entities) put.run(e.kind, e.id);
    })();
  }
}
