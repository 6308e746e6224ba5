// Tamper evidence that holds against a database writer (DESIGN §11): the audit chain is keyed with a key kept outside
// the SQLite file and its head is checkpointed outside SQLite (JetStream), so someone who can write the database
// but holds neither the key nor the checkpoint stream cannot edit, drop or re-hash rows unseen. Each test plays that
// attacker with the SQLite file alone; one runs the checkpoints on a real nats-server.
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from 'vitest';
import {
  AuditCheckpointer,
  type AuditCheckpointSink,
  memoryCheckpointSink,
  natsCheckpointSink,
  startAuditCheckpoints,
  verifyAudit,
} from '../../actors/audit-checkpoint';
import { answerAuditQuery, listAudit } from '../../actors/audit-queries';
import {
  AUDIT_INCIDENT_KIND,
  AuditKeyError,
  auditKeyPath,
  loadOrCreateAuditKey,
  readAuditKey,
  reportBrokenAudit,
} from '../../actors/audit-startup';
import { SimulatedClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import { connectBus, type NatsBus } from '../../adapters/nats';
import { AUDIT_STREAM, auditCheckpointSubject, readLastAuditCheckpoint } from '../../adapters/nats/streams';
import { GatewayClient } from '../../cli/client';
import { auditCommand, auditVerifyCommand } from '../../cli/commands/audit';
import type { CommandContext } from '../../cli/commands/types';
import { EXIT } from '../../cli/exit-codes';
import { RouteTable } from '../../gateway/route-table';
import { AuditListQuerySchema, registerAuditRoutes } from '../../gateway/routes/audit';
import type { RouteContext } from '../../gateway/routes/context';
import { AuditCheckpointSchema, type AuditQueryReply, AuditQueryReplySchema } from '../../protocol/audit-schemas';
import { AuditKey, GENESIS_HASH, META_KEYS, StateStore, TABLES, triggerName } from '../../state';
import { auditHash, auditHmac, type HashedFields } from '../../state/audit-hash';
import { SQLITE_SEQUENCE } from '../../state/tables';
import { startNatsServer, type TestNatsServer } from '../helpers/nats-server';

const A = TABLES.audit;
const dirs: string[] = [];
const stores: StateStore[] = [];

afterEach(() => {
  for (const store of stores.splice(0)) store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'overseer-audit-'));
  dirs.push(dir);
  return dir;
}

/** A data dir with its key file and database, as `serve` makes them. */
function dataDir(opts: { keyed?: boolean } = {}) {
  const dir = tempDir();
  const { key } = loadOrCreateAuditKey(auditKeyPath(dir));
  const file = join(dir, 'overseer.db');
  const open = (auditKey: AuditKey | undefined = opts.keyed === false ? undefined : key) => {
    const store = StateStore.open(file, { auditKey, now: () => 500_000 });
    stores.push(store);
    return store;
  };
  return { dir, key, file, open };
}

function append(store: StateStore, n: number, from = 1): void {
  for (let i = from; i < from + n; i++) {
    store.audit.append({ at: 1_000 + i, actor: i % 3 ? 'alice' : 'overseer', kind: 'token.created', data: { n: i } });
  }
}

// --- what an attacker with the SQLite file alone does ------------------------------------------------------------------

interface Row extends HashedFields {
  data: string;
}

function dropTriggers(db: Database): void {
  db.exec(`DROP TRIGGER ${triggerName(A, 'no_update')}; DROP TRIGGER ${triggerName(A, 'no_delete')};`);
}

/** Relinks every row with `link` and fixes audit_head: the whole chain recomputed. */
function recomputeChain(db: Database, link: (prev: string, row: Row) => string): void {
  let prev = GENESIS_HASH;
  const rows = db.prepare(`SELECT seq, at, actor, kind, data FROM ${A} ORDER BY seq`).all() as Row[];
  for (const row of rows) {
    const hash = link(prev, row);
    db.prepare(`UPDATE ${A} SET prev_hash = ?, hash = ? WHERE seq = ?`).run(prev, hash, row.seq);
    prev = hash;
  }
  db.prepare(`UPDATE ${TABLES.auditHead} SET seq = ?, hash = ? WHERE id = 1`).run(rows.at(-1)?.seq ?? 0, prev);
}

/** Deletes rows after `keep` and sets audit_head and the AUTOINCREMENT counter to match: the table looks whole. */
function truncateTail(db: Database, keep: number): void {
  db.prepare(`DELETE FROM ${A} WHERE seq > ?`).run(keep);
  const hash = db.prepare(`SELECT hash FROM ${A} WHERE seq = ?`).pluck().get(keep) as string;
  db.prepare(`UPDATE ${TABLES.auditHead} SET seq = ?, hash = ? WHERE id = 1`).run(keep, hash);
  db.prepare(`UPDATE ${SQLITE_SEQUENCE} SET seq = ? WHERE name = ?`).run(keep, A);
}

const sha = (prev: string, row: Row) => auditHash(prev, row, row.data);

const quiet = () => createMemoryLog(new SimulatedClock(0));

describe('audit tamper', () => {
  test('security - a row rewritten and the whole chain recomputed with plain SHA-256 is detected', () => {
    const { open } = dataDir();
    const store = open();
    append(store, 6);
    dropTriggers(store.db);
    store.db.prepare(`UPDATE ${A} SET actor = 'mallory', data = '{"n":0}' WHERE seq = 4`).run();
    recomputeChain(store.db, sha);

    const result = store.audit.verify();
    expect(result).toMatchObject({ ok: false, keyedFrom: 1, problem: { row: 1, kind: 'edited' } });
    expect(result.problem!.sentence).toBe(
      'row 1 carries a plain SHA-256 link where the chain is keyed: it was rewritten without the audit key',
    );
    // Before keying, exactly this went unseen: the same attack on an unkeyed log verifies.
    const { open: openUnkeyed } = dataDir({ keyed: false });
    const unkeyed = openUnkeyed();
    append(unkeyed, 6);
    dropTriggers(unkeyed.db);
    unkeyed.db.prepare(`UPDATE ${A} SET actor = 'mallory', data = '{"n":0}' WHERE seq = 4`).run();
    recomputeChain(unkeyed.db, sha);
    expect(unkeyed.audit.verify()).toMatchObject({ ok: true, rows: 6, keyedFrom: null });
  });

  test('security - the whole chain recomputed with HMAC under a wrong key is detected', () => {
    const { open } = dataDir();
    const store = open();
    append(store, 6);
    dropTriggers(store.db);
    store.db.prepare(`UPDATE ${A} SET data = '{"n":0}' WHERE seq = 6`).run();
    const guess = new AuditKey(randomBytes(32));
    recomputeChain(store.db, (prev, row) => auditHmac(guess, prev, row, row.data));
    expect(store.audit.verify()).toMatchObject({ ok: false, problem: { row: 1, kind: 'edited' } });
    expect(store.audit.verify().problem!.sentence).toMatch(/does not match its keyed link/);

    // Re-keying the marker to the guessed key as well: it no longer names the real key.
    const seq = store.audit.keyedFrom()!;
    store.meta.set(META_KEYS.auditKeying, JSON.stringify({ seq, keyId: guess.id, mac: guess.mac('x') }));
    expect(store.audit.verify()).toMatchObject({ ok: false, problem: { row: 1, kind: 'wrong-key' } });
  });

  test('security - unkeyed rows from before the key still verify; rewriting them is found at the first keyed row', () => {
    const { key, open } = dataDir({ keyed: false });
    const old = open();
    append(old, 4);
    old.close();
    const store = open(key);
    append(store, 3, 5);
    // Rows 1-4 keep their SHA-256 links; row 5 (the `audit.keyed` anchor) and after are keyed.
    expect(store.audit.verify()).toMatchObject({ ok: true, rows: 8, keyedFrom: 5 });
    expect(listAudit(store, { afterSeq: 4, limit: 1 }).items[0]).toMatchObject({ seq: 5, kind: 'audit.keyed' });

    dropTriggers(store.db);
    store.db.prepare(`UPDATE ${A} SET data = '{"n":0}' WHERE seq = 2`).run();
    recomputeChain(store.db, sha);
    expect(store.audit.verify()).toMatchObject({ ok: false, problem: { row: 5, kind: 'edited' } });
  });

  describe('checkpoints in JetStream', () => {
    let server: TestNatsServer;
    let bus: NatsBus;
    beforeAll(async () => {
      server = await startNatsServer({ jetstream: true });
      bus = await connectBus({ servers: server.url, name: 'audit-tamper' });
    });
    afterAll(async () => {
      await bus?.close();
      await server?.stop();
    });

    test('security - a tail deleted after a checkpoint is found against the checkpoint, also after a restart (real nats-server)', async () => {
      const { key, open } = dataDir();
      let store = open();
      append(store, 10);
      const sink = await natsCheckpointSink(bus);
      const clock = new SimulatedClock(1_700_000_000_000);

      const atStart = await verifyAudit(store, sink);
      expect(atStart).toMatchObject({ ok: true, rows: 10, keyedFrom: 1, note: 'no checkpoint has been stored yet' });
      const first = await new AuditCheckpointer({ store, sink, clock, log: quiet(), initial: atStart }).checkpointNow();
      expect(first.stored).toMatchObject({ v: 1, seq: 10, keyedFrom: 1, keyId: key.id, at: clock.now() });

      // The checkpoint is in OVERSEER_AUDIT (limits retention, file storage) on the key's own subject.
      const jsm = await bus.jetstreamManager();
      const info = await jsm.streams.info(AUDIT_STREAM);
      expect(info.config).toMatchObject({
        retention: 'limits',
        storage: 'file',
        subjects: ['overseer.audit.checkpoint.>'],
      });
      const stored = AuditCheckpointSchema.parse(await readLastAuditCheckpoint(jsm, key.id));
      expect(stored).toEqual(first.stored);
      expect(auditCheckpointSubject(key.id)).toBe(`overseer.audit.checkpoint.${key.id}`);

      // The attacker removes rows 8-10 and makes audit_head and the counter agree: the table alone looks intact.
      dropTriggers(store.db);
      truncateTail(store.db, 7);
      expect(store.audit.verify()).toMatchObject({ ok: true, rows: 7 });
      const found = await verifyAudit(store, sink);
      expect(found).toMatchObject({
        ok: false,
        rows: 7,
        checkpoint: { seq: 10, at: clock.now() },
        problem: { row: 8, kind: 'behind-checkpoint' },
      });
      expect(found.problem!.sentence).toMatch(
        /^rows 8 to 10 are gone: the checkpoint of .* names row 10 but the table ends at row 7/,
      );

      // A restart: the start-up check finds it, the incident opens, the next checkpoint keeps the evidence.
      store.close();
      store = open();
      const afterRestart = await verifyAudit(store, sink);
      expect(afterRestart.problem).toMatchObject({ row: 8, kind: 'behind-checkpoint' });
      const notifier = { notify: vi.fn() };
      const report = reportBrokenAudit(afterRestart, { store, notifier, log: quiet(), clock });
      expect(report).toMatchObject({ created: true, incident: { kind: AUDIT_INCIDENT_KIND } });
      expect(notifier.notify).toHaveBeenCalledTimes(1);
      const onBroken = vi.fn();
      const checkpoints = new AuditCheckpointer({ store, sink, clock, log: quiet(), initial: afterRestart, onBroken });
      const second = await checkpoints.checkpointNow();
      expect(onBroken).not.toHaveBeenCalled();
      expect(second.stored).toMatchObject({ seq: 8, broken: { row: 8, kind: 'behind-checkpoint' } });

      // Rows go on being appended and checkpointed; the deleted tail stays reported.
      append(store, 2, 100);
      await clock.advanceAsync(60_000);
      const third = await checkpoints.checkpointNow();
      expect(third.stored).toMatchObject({ seq: 10, broken: { row: 8 } });
      const later = await verifyAudit(store, sink);
      expect(later).toMatchObject({ ok: false, rows: 10, problem: { row: 8, kind: 'behind-checkpoint' } });
      expect(later.problem!.recordedAt).toBe(1_700_000_000_000);
      expect((await jsm.streams.info(AUDIT_STREAM)).state.messages).toBe(3);
    });

    test('security - the audit query answers a page and the verification against the stream', async () => {
      const { open } = dataDir();
      const store = open();
      append(store, 5);
      const sink = await natsCheckpointSink(bus);
      await new AuditCheckpointer({ store, sink, clock: new SimulatedClock(9_000), log: quiet() }).checkpointNow();
      const reply = await answerAuditQuery({ store, checkpoints: sink }, { limit: 2, actor: 'alice' });
      expect(AuditQueryReplySchema.parse(reply)).toEqual(reply);
      expect(reply.items.map((r) => r.seq)).toEqual([1, 2]);
      expect(reply.next).toBe(2);
      expect(reply.verification).toMatchObject({ ok: true, rows: 5, checkpoint: { seq: 5, at: 9_000 } });
      expect(listAudit(store, { afterSeq: 2, actor: 'alice' })).toMatchObject({
        items: [{ seq: 4 }, { seq: 5 }],
        next: null,
      });
    });
  });

  test('security - a database rolled back to an older copy and written on is found as a rewritten tail', async () => {
    const { file, open } = dataDir();
    const store = open();
    append(store, 5);
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    const copy = readFileSync(file);
    const sink = memoryCheckpointSink();
    append(store, 4, 6);
    await new AuditCheckpointer({ store, sink, clock: new SimulatedClock(0), log: quiet() }).checkpointNow();
    store.close();
    writeFileSync(file, copy);
    rmSync(`${file}-wal`, { force: true });
    rmSync(`${file}-shm`, { force: true });

    const restored = open();
    append(restored, 6, 50);
    expect(restored.audit.verify()).toMatchObject({ ok: true, rows: 11 });
    expect(await verifyAudit(restored, sink)).toMatchObject({ ok: false, problem: { row: 9, kind: 'rewritten-tail' } });
  });

  test('security - removing the keying marker and re-hashing everything is found against the checkpoint after a restart', async () => {
    const { open } = dataDir();
    const store = open();
    append(store, 5);
    const sink = memoryCheckpointSink();
    await new AuditCheckpointer({ store, sink, clock: new SimulatedClock(0), log: quiet() }).checkpointNow();
    dropTriggers(store.db);
    recomputeChain(store.db, sha);
    store.meta.delete(META_KEYS.auditKeying);
    expect(store.audit.verify().problem).toMatchObject({ kind: 'forged-head' });
    store.close();

    // On the next start an unmarked log is keyed afresh from row 6: the table alone verifies again.
    const reopened = open();
    expect(reopened.audit.verify()).toMatchObject({ ok: true, keyedFrom: 6 });
    const result = await verifyAudit(reopened, sink);
    expect(result).toMatchObject({ ok: false, problem: { row: 1, kind: 'forged-head' } });
  });

  test('security - a checkpoint that is not this key’s is refused as a bad checkpoint', async () => {
    const { key, open } = dataDir();
    const store = open();
    append(store, 3);
    const forged: AuditCheckpointSink = {
      last: async () => ({ ...store.audit.checkpointOf({ seq: 1, hash: 'a'.repeat(64) }, 0), seq: 3 }),
      put: async () => {},
    };
    expect(await verifyAudit(store, forged)).toMatchObject({ ok: false, problem: { kind: 'bad-checkpoint' } });
    const garbage: AuditCheckpointSink = { last: async () => ({ seq: 3 }), put: async () => {} };
    expect(await verifyAudit(store, garbage)).toMatchObject({ ok: false, problem: { kind: 'bad-checkpoint' } });
    const down: AuditCheckpointSink = {
      last: async () => {
        throw new Error('no responders');
      },
      put: async () => {},
    };
    expect(await verifyAudit(store, down)).toMatchObject({ ok: true, note: expect.stringMatching(/no responders/) });
    expect(key.id).toMatch(/^[0-9a-f]{16}$/);
  });

  test('security - the checkpoints run on the injected clock, store only a moved head and report a problem once', async () => {
    const { open } = dataDir();
    const store = open();
    append(store, 3);
    const clock = new SimulatedClock(0);
    const sink = memoryCheckpointSink();
    const onBroken = vi.fn();
    const checkpoints = startAuditCheckpoints({ store, sink, clock, log: quiet(), intervalMs: 60_000, onBroken });
    await clock.advanceAsync(0);
    const keyId = store.audit.keyId!;
    const seqs = () => (sink.stored.get(keyId) ?? []).map((c) => (c as { seq: number }).seq);
    expect(seqs()).toEqual([3]);

    append(store, 2, 4);
    await clock.advanceAsync(59_999);
    expect(seqs()).toEqual([3]);
    await clock.advanceAsync(1);
    expect(seqs()).toEqual([3, 5]);
    await clock.advanceAsync(60_000);
    expect(seqs()).toEqual([3, 5]);

    dropTriggers(store.db);
    truncateTail(store.db, 4);
    await clock.advanceAsync(60_000);
    await clock.advanceAsync(60_000);
    expect(onBroken).toHaveBeenCalledTimes(1);
    expect(onBroken.mock.calls[0]![0]).toMatchObject({ ok: false, problem: { row: 5, kind: 'behind-checkpoint' } });
    expect(sink.stored.get(keyId)!.at(-1)).toMatchObject({ seq: 4, broken: { row: 5, kind: 'behind-checkpoint' } });

    await checkpoints.stop();
    expect(clock.pending).toBe(0);
  });

  test('security - the audit key is made once outside the database: 32 random bytes, mode 0600', () => {
    const dir = tempDir();
    const path = auditKeyPath(dir);
    expect(path).toBe(join(dir, 'audit.key'));
    const log = quiet();
    const made = loadOrCreateAuditKey(path, log);
    expect(made.created).toBe(true);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(statSync(path).size).toBe(32);
    expect(loadOrCreateAuditKey(path, log)).toMatchObject({ created: false, key: { id: made.key.id } });

    // The database keyed with it holds its id, never its bytes.
    const store = StateStore.open(join(dir, 'overseer.db'), { auditKey: made.key });
    stores.push(store);
    append(store, 3);
    store.db.pragma('wal_checkpoint(TRUNCATE)');
    expect(readFileSync(join(dir, 'overseer.db')).includes(readFileSync(path))).toBe(false);

    // OVERSEER_AUDIT_KEY_FILE names another file; 64 hex digits are a key too; anything else is refused.
    const other = join(tempDir(), 'k.hex');
    expect(auditKeyPath(dir, { OVERSEER_AUDIT_KEY_FILE: other })).toBe(other);
    writeFileSync(other, `${'ab'.repeat(32)}\n`);
    expect(readAuditKey(other).id).toMatch(/^[0-9a-f]{16}$/);
    writeFileSync(other, 'short');
    expect(() => readAuditKey(other)).toThrow(AuditKeyError);
    chmodSync(path, 0o644);
    loadOrCreateAuditKey(path, log);
    expect(log.lines.at(-1)).toMatch(/readable by others \(mode 644\)/);
  });

  test('security - a broken chain at start-up opens one critical incident, audits and publishes it, and notifies', () => {
    const { open } = dataDir();
    const store = open();
    append(store, 5);
    dropTriggers(store.db);
    store.db.prepare(`UPDATE ${A} SET data = '{"n":0}' WHERE seq = 3`).run();
    const verification = store.audit.verify();
    expect(verification.problem).toMatchObject({ row: 3, kind: 'edited' });

    const clock = new SimulatedClock(1_000_000);
    const log = quiet();
    const notifier = { notify: vi.fn() };
    const publish = vi.fn();
    const deps = { store, log, clock, notifier, publish, newId: () => 'inc-audit' };
    const report = reportBrokenAudit(verification, deps);
    expect(report).toMatchObject({ created: true });
    expect(store.incidents.get('inc-audit')).toMatchObject({
      kind: 'audit-chain-broken',
      subject: 'overseer',
      severity: 'critical',
      status: 'open',
      detail: `the audit log is damaged at row 3 (edited): ${verification.problem!.sentence}`,
      data: { row: 3, kind: 'edited' },
    });
    expect(notifier.notify).toHaveBeenCalledWith(
      expect.objectContaining({
        severity: 'critical',
        title: 'incident opened: audit-chain-broken on overseer',
        text: expect.stringContaining('row 3'),
      }),
    );
    expect(publish).toHaveBeenCalledWith(
      'overseer.evt.incident.inc-audit.open',
      expect.objectContaining({ type: 'incident.opened', severity: 'critical' }),
    );
    expect(store.audit.list({ kind: 'incident.opened' })).toHaveLength(1);
    expect(log.lines.some((l) => l.includes('error: incident:inc-audit: the audit log is damaged at row 3'))).toBe(
      true,
    );

    // Seen again (the next start, or another problem): one incident, counted and updated, not notified twice.
    expect(reportBrokenAudit(verification, deps)).toMatchObject({ created: false });
    expect(store.incidents.get('inc-audit')?.occurrences).toBe(2);
    const other = { ...verification, problem: { row: 9, kind: 'deleted' as const, sentence: 'row 9 is missing' } };
    expect(reportBrokenAudit(other, deps)).toMatchObject({ created: false, incident: { occurrences: 3 } });
    expect(store.incidents.get('inc-audit')).toMatchObject({ detail: expect.stringMatching(/row 9 \(deleted\)/) });
    expect(notifier.notify).toHaveBeenCalledTimes(1);
    expect(publish).toHaveBeenCalledTimes(1);
    expect(store.incidents.list({ kind: 'audit-chain-broken' })).toHaveLength(1);

    expect(reportBrokenAudit({ ...verification, ok: true, problem: undefined }, deps)).toBeUndefined();
  });

  test('security - GET /v1/audit is admin-only, and `overseer audit verify` exits non-zero on a broken chain', async () => {
    const table = new RouteTable();
    registerAuditRoutes(table, {} as RouteContext);
    const [route] = table.entries;
    expect(route?.spec).toMatchObject({ method: 'get', path: '/v1/audit', role: 'admin' });
    expect(AuditListQuerySchema.parse({ limit: '5', afterSeq: '10', kind: 'token.created' })).toEqual({
      limit: 5,
      afterSeq: 10,
      kind: 'token.created',
    });
    expect(AuditListQuerySchema.safeParse({ limit: '5000' }).success).toBe(false);
    expect(AuditListQuerySchema.safeParse({ seq: '1' }).success).toBe(false);

    // The answers the CLI gets: an intact chain, then the same store after a tail was cut.
    const { open } = dataDir();
    const store = open();
    append(store, 6);
    const sink = memoryCheckpointSink();
    await new AuditCheckpointer({ store, sink, clock: new SimulatedClock(0), log: quiet() }).checkpointNow();
    const answer = async (query: URLSearchParams): Promise<AuditQueryReply> =>
      answerAuditQuery(
        { store, checkpoints: sink },
        {
          ...(query.get('limit') ? { limit: Number(query.get('limit')) } : {}),
          ...(query.get('afterSeq') ? { afterSeq: Number(query.get('afterSeq')) } : {}),
        },
      );
    const urls: string[] = [];
    const fetchStub = (async (input: string | URL | Request) => {
      const url = new URL(String(input));
      urls.push(`${url.pathname}${url.search}`);
      return new Response(JSON.stringify(await answer(url.searchParams)), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    }) as typeof fetch;
    const run = async (command: typeof auditCommand, values: Record<string, string> = {}) => {
      let out = '';
      let err = '';
      const ctx = {
        client: new GatewayClient('http://gateway.test', 'token', fetchStub),
        values,
        positionals: [],
        json: false,
        out: (t: string) => {
          out += t;
        },
        err: (t: string) => {
          err += t;
        },
      } as unknown as CommandContext;
      return { code: await command.run(ctx), out, err };
    };

    const listed = await run(auditCommand, { limit: '2', after: '1' });
    expect(listed.code).toBe(0);
    expect(listed.out).toMatch(
      /^SEQ +TIME +ACTOR +KIND +DATA\n2 +1970-01-01T00:00:01Z +alice +token.created +\{"n":2\}/,
    );
    expect(listed.err).toMatch(/more rows: --after 3/);
    expect(listed.err).toMatch(/audit chain intact: 6 rows checked, keyed from row 1, last checkpoint at row 6/);
    expect(urls[0]).toBe('/v1/audit?afterSeq=1&limit=2');
    expect(await run(auditVerifyCommand)).toMatchObject({ code: 0, out: expect.stringMatching(/^chain: +intact/) });

    dropTriggers(store.db);
    truncateTail(store.db, 4);
    const broken = await run(auditVerifyCommand);
    expect(broken.code).toBe(EXIT.auditBroken);
    expect(broken.code).not.toBe(0);
    expect(broken.out).toMatch(/chain: +BROKEN/);
    expect(broken.out).toMatch(/problem: +row 5 \(behind-checkpoint\): rows 5 to 6 are gone/);
  });
});
