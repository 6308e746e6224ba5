// NATS is locked by default (DESIGN §11): the embedded nats-server `npm start` runs (started here exactly as
// actors/nats-endpoint.ts starts it, from a config generated into a temp data dir) refuses anonymous clients and
// gives the users core, gateway and events only what their part needs; the read-only credentials the CLI prints
// work for following and replaying events and for nothing else; installations sharing a server (deploy/'s config)
// are kept apart by their namespaces. Every test runs against a real nats-server on a free port.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  AuthorizationError,
  connect,
  type NatsConnection,
  NoRespondersError,
  PermissionViolationError,
} from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  assertNoOtherCore,
  type NatsEndpoint,
  NatsNamespaceTakenError,
  probeAnonymousAccess,
  resolveNats,
} from '../../actors/nats-endpoint';
import type { Log } from '../../adapters/log';
import {
  BusAuthError,
  connectBus,
  EMBEDDED_NATS_FILES,
  EVENT_STREAM,
  EVENTS_INBOX_PREFIX,
  ensureEventStream,
  eventStreamName,
  findFreePort,
  findNatsServerBinary,
  type NatsBus,
  type NatsPasswords,
  type NatsServerProcess,
  readNatsPasswords,
  spawnNatsServer,
} from '../../adapters/nats';
import { natsCredentialsCommand } from '../../cli/commands/nats-credentials';
import type { CommandContext } from '../../cli/commands/types';
import { eventFilter, subjects } from '../../protocol';
import { natsServerAvailable, startNatsServer } from '../helpers/nats-server';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function quietLog(lines: string[] = []): Log {
  return {
    stateChange: () => {},
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}

type Outcome = 'refused' | 'allowed';

/** Subscribes and reports whether the server refused it (a permissions violation for this subscription). */
async function trySubscribe(nc: NatsConnection, subject: string, queue?: string): Promise<Outcome> {
  let refused = false;
  const sub = nc.subscribe(subject, {
    ...(queue ? { queue } : {}),
    callback: (err) => {
      if (err instanceof PermissionViolationError) refused = true;
    },
  });
  // The server answers the SUB before the PING of the flush.
  await nc.flush();
  if (!sub.isClosed()) sub.unsubscribe();
  return refused ? 'refused' : 'allowed';
}

/**
 * Publishes (as a request, so the answer tells): 'refused' when the server refuses the publish, else 'allowed'
 * (answered, no responders, or silence).
 */
async function tryPublish(nc: NatsConnection, subject: string): Promise<Outcome> {
  try {
    await nc.request(subject, '{}', { timeout: 500 });
    return 'allowed';
  } catch (err) {
    const cause = (err as Error).cause;
    return err instanceof PermissionViolationError || cause instanceof PermissionViolationError ? 'refused' : 'allowed';
  }
}

/** A request that must get "no responders" (allowed, nobody serves it). */
async function noResponders(nc: NatsConnection, subject: string): Promise<boolean> {
  try {
    await nc.request(subject, '{}', { timeout: 1_000 });
    return false;
  } catch (err) {
    return (err as Error).cause instanceof NoRespondersError;
  }
}

async function waitFor(cond: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(20);
  }
}

/** Runs `overseer nats-credentials` in-process and returns what it printed. */
async function natsCredentials(dataDir: string, json: boolean): Promise<string> {
  let out = '';
  const ctx = {
    values: { 'data-dir': dataDir },
    positionals: [],
    json,
    io: { stdout: () => {}, stderr: () => {} },
    out: (t: string) => {
      out += t;
    },
    err: () => {},
  } as unknown as CommandContext;
  expect(await natsCredentialsCommand.run(ctx)).toBe(0);
  return out;
}

describe.runIf(natsServerAvailable)('security - the embedded nats-server', () => {
  let dataDir: string;
  let endpoint: NatsEndpoint;
  let passwords: NatsPasswords;
  let url: string;
  const logLines: string[] = [];
  const open: { close(): Promise<void> }[] = [];

  const as = async (user: keyof NatsPasswords, extra: { inboxPrefix?: string } = {}): Promise<NatsConnection> => {
    const nc = await connect({ servers: url, user, pass: passwords[user], name: `test-${user}`, ...extra });
    open.push(nc);
    return nc;
  };
  const bus = async (user: 'core' | 'gateway', namespace?: string): Promise<NatsBus> => {
    const b = await connectBus({ servers: url, user, pass: passwords[user], name: `test-bus-${user}`, namespace });
    open.push(b);
    return b;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'overseer-nats-sec-'));
    endpoint = await resolveNats({ env: { PATH: process.env.PATH }, dataDir, log: quietLog(logLines), role: 'all' });
    url = endpoint.url;
    passwords = readNatsPasswords(dataDir)!;
  });

  afterAll(async () => {
    for (const c of open.splice(0)) await c.close().catch(() => {});
    await endpoint?.server?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('security - npm start runs its own server from a generated 0600 config with three users and no namespace', () => {
    expect(endpoint.embedded).toBe(true);
    expect(endpoint.server?.running).toBe(true);
    expect(endpoint.namespace).toBeUndefined();
    expect(endpoint.credentials.core.user).toBe('core');
    expect(endpoint.credentials.gateway.user).toBe('gateway');
    for (const file of [EMBEDDED_NATS_FILES.config, EMBEDDED_NATS_FILES.users]) {
      expect((statSync(join(dataDir, file)).mode & 0o777).toString(8)).toBe('600');
    }
    const config = readFileSync(join(dataDir, EMBEDDED_NATS_FILES.config), 'utf8');
    expect(config).toContain(`store_dir: ${JSON.stringify(join(dataDir, EMBEDDED_NATS_FILES.store))}`);
    expect(config.match(/user: "(\w+)"/g)).toEqual(['user: "core"', 'user: "gateway"', 'user: "events"']);
    expect(new Set(Object.values(passwords)).size).toBe(3);
    for (const p of Object.values(passwords)) expect(p).toMatch(/^[0-9a-f]{48}$/);
    // The passwords are never logged.
    for (const p of Object.values(passwords)) expect(logLines.join('\n')).not.toContain(p);
    const binary = findNatsServerBinary()!;
    execFileSync(binary, ['-t', '-c', join(dataDir, EMBEDDED_NATS_FILES.config)], { stdio: 'pipe' });
  });

  test('security - a client without credentials (or with a wrong password) cannot connect', async () => {
    await expect(connect({ servers: url, timeout: 2_000, reconnect: false })).rejects.toBeInstanceOf(
      AuthorizationError,
    );
    await expect(connectBus({ servers: url, name: 'anonymous' })).rejects.toBeInstanceOf(BusAuthError);
    await expect(
      connectBus({ servers: url, user: 'core', pass: passwords.gateway, name: 'wrong-password' }),
    ).rejects.toBeInstanceOf(BusAuthError);
    // The start-up probe a NATS_URL server gets finds nothing open here.
    expect(await probeAnonymousAccess([url], undefined)).toBeUndefined();
  });

  test('security - only the core serves requests and queries; the gateway reaches it', async () => {
    const core = await bus('core');
    const gateway = await bus('gateway');
    core.reply(subjects.reqSubmit, () => ({ decision: 'denied' }), { queue: 'overseer-core' });
    core.reply(subjects.reqCommandsFilter, (_p, subject) => ({ subject }), { queue: 'overseer-core' });
    core.reply(subjects.queriesFilter, (_p, subject) => ({ subject }), { queue: 'overseer-core' });
    core.reply(subjects.allActors, () => ({ delivered: true }));
    await core.flush();
    expect(await gateway.request(subjects.reqSubmit, {})).toEqual({ decision: 'denied' });
    expect(await gateway.request(subjects.reqCommand('r1', 'approve'), {})).toEqual({
      subject: 'overseer.req.r1.approve',
    });
    expect(await gateway.request(subjects.query('status'), {})).toEqual({ subject: 'overseer.query.status' });

    const gw = await as('gateway');
    const ev = await as('events', { inboxPrefix: EVENTS_INBOX_PREFIX });
    for (const nc of [gw, ev]) {
      expect(await trySubscribe(nc, 'overseer.req.>')).toBe('refused');
      expect(await trySubscribe(nc, 'overseer.query.>')).toBe('refused');
      expect(await trySubscribe(nc, subjects.reqSubmit)).toBe('refused');
      expect(await trySubscribe(nc, subjects.reqSubmit, 'overseer-core')).toBe('refused');
      expect(await trySubscribe(nc, subjects.queriesFilter, 'overseer-core')).toBe('refused');
      expect(await trySubscribe(nc, subjects.allActors)).toBe('refused');
      expect(await trySubscribe(nc, 'overseer.>')).toBe('refused');
      expect(await trySubscribe(nc, '>')).toBe('refused');
    }
  });

  test('security - the gateway sends requests and reads events, and publishes nothing else', async () => {
    const core = await bus('core');
    const gw = await as('gateway');
    const got: string[] = [];
    gw.subscribe(subjects.allEvents, {
      callback: (_e, m) => {
        got.push(m.subject);
      },
    });
    await gw.flush();
    core.publish(subjects.evtVm('lab', 101, 'state'), { state: 'running' });
    await waitFor(() => got.includes('overseer.evt.vm.lab.101.state'));

    for (const subject of [
      subjects.evtVm('lab', 101, 'state'),
      subjects.evtReq('r1', 'approved'),
      subjects.actor('loop:sync'),
      '$JS.API.INFO',
      `$JS.API.STREAM.DELETE.${EVENT_STREAM}`,
      `$JS.API.STREAM.PURGE.${EVENT_STREAM}`,
      '_INBOX.somebody',
    ]) {
      expect(await tryPublish(gw, subject), subject).toBe('refused');
    }
    expect(await tryPublish(gw, subjects.reqSubmit)).toBe('allowed');
    expect(await tryPublish(gw, subjects.query('auth'))).toBe('allowed');
  });

  test('security - the events user follows and replays the events stream, and can do nothing else', async () => {
    const core = await bus('core');
    const info = await ensureEventStream(await core.jetstreamManager(), { maxMsgs: 1_000 });
    expect(info.config.name).toBe(EVENT_STREAM);
    for (let i = 1; i <= 3; i++) core.publish(subjects.evtLoop('sync', 'synced'), { i });
    await core.flush();
    const jsm = await core.jetstreamManager();
    for (;;) {
      if ((await jsm.streams.info(EVENT_STREAM)).state.messages >= 3) break;
      await sleep(20);
    }

    const ev = await as('events', { inboxPrefix: EVENTS_INBOX_PREFIX });
    // Live, like `nats sub 'overseer.evt.>'`.
    const live: unknown[] = [];
    ev.subscribe(subjects.allEvents, {
      callback: (_e, m) => {
        live.push(m.json());
      },
    });
    await ev.flush();
    core.publish(subjects.evtLoop('sync', 'synced'), { i: 4 });
    await waitFor(() => live.length === 1);
    expect(live).toEqual([{ i: 4 }]);

    // Replay with an ordered (pull) consumer: the JavaScript client's way.
    const js = jetstream(ev, { watcherPrefix: EVENTS_INBOX_PREFIX });
    const ordered = await js.consumers.get(EVENT_STREAM, { filter_subjects: subjects.allEvents });
    const replayed: unknown[] = [];
    for await (const m of await ordered.fetch({ max_messages: 10, expires: 2_000 })) {
      replayed.push(m.json());
      if (m.info.pending === 0) break;
    }
    expect(replayed).toEqual([{ i: 1 }, { i: 2 }, { i: 3 }, { i: 4 }]);
    await ordered.delete();

    // Replay with an ordered push consumer (flow control, heartbeats): the nats CLI's way (`nats sub --all`).
    const push = await js.consumers.getPushConsumer(EVENT_STREAM, {
      filter_subjects: subjects.allEvents,
      deliver_policy: DeliverPolicy.All,
    });
    const pushed: unknown[] = [];
    const messages = await push.consume();
    for await (const m of messages) {
      pushed.push(m.json());
      if (m.info.pending === 0) break;
    }
    await messages.close();
    expect(pushed).toEqual([{ i: 1 }, { i: 2 }, { i: 3 }, { i: 4 }]);

    // Nothing else: no Overseer subject, no stream or consumer management, no other inboxes.
    for (const subject of [
      subjects.reqSubmit,
      subjects.query('auth'),
      subjects.query('status'),
      subjects.reqCommand('r1', 'approve'),
      subjects.evtLoop('sync', 'synced'),
      subjects.actor('overseer'),
      `$JS.API.STREAM.DELETE.${EVENT_STREAM}`,
      `$JS.API.STREAM.PURGE.${EVENT_STREAM}`,
      `$JS.API.STREAM.UPDATE.${EVENT_STREAM}`,
      `$JS.API.STREAM.MSG.DELETE.${EVENT_STREAM}`,
      '$JS.API.STREAM.CREATE.MINE',
      `$JS.API.CONSUMER.DURABLE.CREATE.${EVENT_STREAM}.mine`,
    ]) {
      expect(await tryPublish(ev, subject), subject).toBe('refused');
    }
    // Not even through its JetStream manager.
    const evJsm = await jetstreamManager(ev, { checkAPI: false });
    await expect(evJsm.streams.delete(EVENT_STREAM)).rejects.toThrow(/Permissions Violation/);
    expect((await jsm.streams.info(EVENT_STREAM)).state.messages).toBe(4);
    // The gateway's replies (new API tokens among them) travel on _INBOX.>: not readable here.
    expect(await trySubscribe(ev, '_INBOX.>')).toBe('refused');
    expect(await trySubscribe(ev, `${EVENTS_INBOX_PREFIX}.>`)).toBe('allowed');
  });

  test('security - overseer nats-credentials prints read-only credentials that work with the nats CLI', async () => {
    const text = await natsCredentials(dataDir, false);
    expect(text).toContain(
      `nats --server ${url} --user events --password '${passwords.events}' --inbox-prefix ${EVENTS_INBOX_PREFIX} sub 'overseer.evt.>'`,
    );
    expect(text).toContain(`stream view ${EVENT_STREAM}`);
    const context = JSON.parse(await natsCredentials(dataDir, true)) as Record<string, string>;
    expect(context).toMatchObject({ url, user: 'events', password: passwords.events });
    expect(context.inbox_prefix).toBe(EVENTS_INBOX_PREFIX);

    const nc = await connect({
      servers: context.url,
      user: context.user,
      pass: context.password,
      inboxPrefix: context.inbox_prefix,
    });
    open.push(nc);
    expect(await trySubscribe(nc, 'overseer.evt.>')).toBe('allowed');
    expect(await tryPublish(nc, subjects.reqSubmit)).toBe('refused');
  });

  test('security - a restart keeps the port, the passwords and the store', async () => {
    const before = { url, passwords: { ...passwords } };
    await endpoint.server?.stop();
    endpoint = await resolveNats({ env: { PATH: process.env.PATH }, dataDir, log: quietLog(), role: 'all' });
    url = endpoint.url;
    expect(url).toBe(before.url);
    expect(readNatsPasswords(dataDir)).toEqual(before.passwords);
    const core = await bus('core');
    expect((await (await core.jetstreamManager()).streams.info(EVENT_STREAM)).state.messages).toBe(4);
    // The gateway alone joins the server its core recorded in the same data dir.
    const joined = await resolveNats({ env: { PATH: process.env.PATH }, dataDir, log: quietLog(), role: 'gateway' });
    expect(joined.server).toBeUndefined();
    expect(joined.url).toBe(url);
    expect(joined.credentials.gateway).toEqual({ user: 'gateway', pass: passwords.gateway });
    // A second start on the same data dir while the server runs: two servers on one store, refused.
    await expect(
      resolveNats({ env: { PATH: process.env.PATH }, dataDir, log: quietLog(), role: 'all' }),
    ).rejects.toThrow(`the embedded nats-server of ${dataDir} already runs on ${url} (pid ${endpoint.server?.pid})`);
  });

  test('security - a second core in the same namespace refuses to start', async () => {
    const first = await bus('core');
    first.reply(subjects.queriesFilter, () => ({ up: true }), { queue: 'overseer-core' });
    await first.flush();
    const second = await bus('core');
    const err = await assertNoOtherCore(second, { namespace: undefined, url }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NatsNamespaceTakenError);
    expect((err as Error).message).toMatch(/another Overseer core already answers overseer\.query\.status/);
  });

  test('security - the gateway replays the events stream for resuming SSE clients, and manages nothing', async () => {
    const core = await bus('core');
    const jsm = await core.jetstreamManager();
    await ensureEventStream(jsm, { maxMsgs: 1_000 });
    const first = (await jsm.streams.info(EVENT_STREAM)).state.last_seq;
    core.publish(subjects.evtReq('r7', 'approved'), { n: 1 });
    core.publish(subjects.evtReq('r7', 'completed'), { n: 2 });
    await core.flush();
    for (;;) {
      if ((await jsm.streams.info(EVENT_STREAM)).state.last_seq >= first + 2) break;
      await sleep(20);
    }
    const consumers = async () => {
      const names: string[] = [];
      for await (const c of jsm.consumers.list(EVENT_STREAM)) names.push(c.name);
      return names.sort();
    };
    const before = await consumers();
    // What the gateway's SSE route does for Last-Event-ID: an ordered consumer from after that sequence.
    const gateway = await bus('gateway');
    const replay = await gateway.replay(eventFilter({ kind: 'req', id: 'r7' }), first);
    const got: { seq: number; subject: string }[] = [];
    for await (const e of replay) {
      got.push({ seq: e.seq, subject: e.subject });
      if (got.length === 2) break;
    }
    await replay.close();
    expect(got).toEqual([
      { seq: first + 1, subject: 'overseer.evt.req.r7.approved' },
      { seq: first + 2, subject: 'overseer.evt.req.r7.completed' },
    ]);
    // Its consumer is gone once closed.
    expect(await consumers()).toEqual(before);

    const gw = await as('gateway');
    for (const subject of [
      '$JS.API.INFO',
      `$JS.API.STREAM.DELETE.${EVENT_STREAM}`,
      `$JS.API.STREAM.PURGE.${EVENT_STREAM}`,
      `$JS.API.STREAM.UPDATE.${EVENT_STREAM}`,
      `$JS.API.STREAM.MSG.DELETE.${EVENT_STREAM}`,
      '$JS.API.STREAM.CREATE.MINE',
      `$JS.API.STREAM.INFO.OVERSEER_AUDIT`,
      `$JS.API.CONSUMER.CREATE.OVERSEER_AUDIT.x.overseer.audit.>`,
      `$JS.API.CONSUMER.DURABLE.CREATE.${EVENT_STREAM}.mine`,
    ]) {
      expect(await tryPublish(gw, subject), subject).toBe('refused');
    }
  });
});

describe.runIf(natsServerAvailable)('security - deploy/nats-server.conf on a shared server', () => {
  const env = {
    OVERSEER_NATS_CORE_PASS: 'core-secret-for-tests',
    OVERSEER_NATS_GATEWAY_PASS: 'gateway-secret-for-tests',
    OVERSEER_NATS_EVENTS_PASS: 'events-secret-for-tests',
  };
  const pass = { core: env.OVERSEER_NATS_CORE_PASS, gateway: env.OVERSEER_NATS_GATEWAY_PASS };
  let dir: string;
  let server: NatsServerProcess;
  const open: { close(): Promise<void> }[] = [];
  const bus = async (user: 'core' | 'gateway', namespace: string): Promise<NatsBus> => {
    const b = await connectBus({
      servers: server.url,
      user,
      pass: pass[user],
      name: `${user}-${namespace}`,
      namespace,
    });
    open.push(b);
    return b;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'overseer-deploy-nats-'));
    const shipped = readFileSync(join(import.meta.dirname, '../../deploy/nats-server.conf'), 'utf8');
    // The shipped file as it is, but for where it listens and keeps its store.
    const conf = shipped
      .replace(/^http: .*$/m, '')
      .replace(/store_dir: "[^"]*"/, `store_dir: ${JSON.stringify(join(dir, 'store'))}`);
    expect(conf).not.toBe(shipped);
    writeFileSync(join(dir, 'nats-server.conf'), conf, { mode: 0o600 });
    Object.assign(process.env, env);
    execFileSync(findNatsServerBinary()!, ['-t', '-c', join(dir, 'nats-server.conf')], { stdio: 'pipe' });
    server = await spawnNatsServer({ port: await findFreePort(), configFile: join(dir, 'nats-server.conf') });
  });

  afterAll(async () => {
    for (const c of open.splice(0)) await c.close().catch(() => {});
    await server?.stop();
    for (const key of Object.keys(env)) delete process.env[key];
    rmSync(dir, { recursive: true, force: true });
  });

  test('security - the shipped config refuses anonymous clients and keeps the gateway off the request subjects', async () => {
    await expect(connect({ servers: server.url, timeout: 2_000, reconnect: false })).rejects.toBeInstanceOf(
      AuthorizationError,
    );
    const gw = await connect({ servers: server.url, user: 'gateway', pass: pass.gateway });
    open.push(gw);
    expect(await trySubscribe(gw, 'overseer.*.req.>')).toBe('refused');
    expect(await trySubscribe(gw, 'overseer.site.query.*')).toBe('refused');
    expect(await tryPublish(gw, 'overseer.site.evt.vm.lab.101.state')).toBe('refused');
    expect(await noResponders(gw, 'overseer.site.req.submit')).toBe(true);
  });

  test('security - two namespaces on one server do not see each other’s requests or events', async () => {
    const coreA = await bus('core', 'site-a');
    const coreB = await bus('core', 'site-b');
    coreA.reply(subjects.reqSubmit, () => 'a', { queue: 'overseer-core' });
    coreB.reply(subjects.reqSubmit, () => 'b', { queue: 'overseer-core' });
    coreA.reply(subjects.queriesFilter, () => 'a', { queue: 'overseer-core' });
    await coreA.flush();
    await coreB.flush();
    const gwA = await bus('gateway', 'site-a');
    const gwB = await bus('gateway', 'site-b');
    for (let i = 0; i < 10; i++) {
      expect(await gwA.request(subjects.reqSubmit, {})).toBe('a');
      expect(await gwB.request(subjects.reqSubmit, {})).toBe('b');
    }
    // Site b has no query responder: site a's is never asked.
    await expect(gwB.request(subjects.query('status'), {}, { timeoutMs: 1_000 })).rejects.toThrow(/no responders/);

    const seenByB: string[] = [];
    const seenByA: string[] = [];
    gwB.subscribe(subjects.allEvents, (s) => seenByB.push(s));
    gwA.subscribe(subjects.allEvents, (s) => seenByA.push(s));
    await gwA.flush();
    await gwB.flush();
    coreA.publish(subjects.evtReq('r1', 'approved'), {});
    await waitFor(() => seenByA.length === 1);
    await coreB.flush();
    await gwB.flush();
    expect(seenByA).toEqual(['overseer.evt.req.r1.approved']);
    expect(seenByB).toEqual([]);

    // The start-up check: a second core in site a refuses, one in site c starts.
    const secondA = await bus('core', 'site-a');
    await expect(assertNoOtherCore(secondA, { namespace: 'site-a', url: server.url })).rejects.toThrow(
      /namespace 'site-a'/,
    );
    const coreC = await bus('core', 'site-c');
    await expect(assertNoOtherCore(coreC, { namespace: 'site-c', url: server.url })).resolves.toBeUndefined();
  });

  test('security - the shipped gateway user replays its namespace’s events stream (SSE Last-Event-ID)', async () => {
    const core = await bus('core', 'site-g');
    const jsm = await core.jetstreamManager();
    await ensureEventStream(jsm, { namespace: 'site-g', maxMsgs: 100 });
    core.publish(subjects.evtLoop('sync', 'synced'), { n: 1 });
    core.publish(subjects.evtLoop('sync', 'synced'), { n: 2 });
    await core.flush();
    const stream = eventStreamName('site-g');
    for (;;) {
      if ((await jsm.streams.info(stream)).state.messages >= 2) break;
      await sleep(20);
    }
    const gateway = await bus('gateway', 'site-g');
    const replay = await gateway.replay(subjects.allEvents, 1);
    const first = await replay[Symbol.asyncIterator]().next();
    await replay.close();
    // Subjects come back without the namespace, as on the bus.
    expect(first.value).toEqual({ seq: 2, subject: 'overseer.evt.loop.sync.synced', payload: { n: 2 } });
  });

  test('security - the shipped events user replays its namespace’s stream and publishes nothing of Overseer’s', async () => {
    const core = await bus('core', 'site-a');
    const stream = eventStreamName('site-a');
    await ensureEventStream(await core.jetstreamManager(), { namespace: 'site-a', maxMsgs: 100 });
    core.publish(subjects.evtLoop('health', 'ok'), { n: 1 });
    await core.flush();
    const ev = await connect({
      servers: server.url,
      user: 'events',
      pass: env.OVERSEER_NATS_EVENTS_PASS,
      inboxPrefix: EVENTS_INBOX_PREFIX,
    });
    open.push(ev);
    const js = jetstream(ev, { watcherPrefix: EVENTS_INBOX_PREFIX });
    const ordered = await js.consumers.get(stream, { filter_subjects: 'overseer.site-a.evt.>' });
    const m = await ordered.next({ expires: 2_000 });
    expect(m?.subject).toBe('overseer.site-a.evt.loop.health.ok');
    await ordered.delete();
    expect(await tryPublish(ev, 'overseer.site-a.req.submit')).toBe('refused');
    expect(await tryPublish(ev, `$JS.API.STREAM.DELETE.${stream}`)).toBe('refused');
    expect(await trySubscribe(ev, '_INBOX.>')).toBe('refused');
  });
});

describe.runIf(natsServerAvailable)('security - a NATS_URL server', () => {
  test('security - an open server is reported in one warning line, with the namespace logged', async () => {
    const server = await startNatsServer({ jetstream: false });
    const dataDir = mkdtempSync(join(tmpdir(), 'overseer-nats-open-'));
    try {
      const lines: string[] = [];
      const endpoint = await resolveNats({ env: { NATS_URL: server.url }, dataDir, log: quietLog(lines) });
      await endpoint.probed;
      expect(endpoint.embedded).toBe(false);
      expect(endpoint.server).toBeUndefined();
      // No OVERSEER_NAMESPACE: the installation id, kept in the data dir and reused.
      const id = readFileSync(join(dataDir, 'installation-id'), 'utf8').trim();
      expect(endpoint.namespace).toBe(id);
      const again = await resolveNats({ env: { NATS_URL: server.url }, dataDir, log: quietLog(), role: 'gateway' });
      expect(again.namespace).toBe(id);
      expect(lines.filter((l) => l.startsWith('info '))).toEqual([
        expect.stringContaining(`namespace '${id}' (installation id`),
      ]);
      const warnings = lines.filter((l) => l.startsWith('warn '));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(`lets a client without credentials subscribe to overseer.${id}.req.submit`);
      expect(warnings[0]).toContain(`publish to overseer.${id}.query.status`);

      const named = await resolveNats({
        env: { NATS_URL: server.url, OVERSEER_NAMESPACE: 'lab-2' },
        dataDir,
        log: quietLog(),
      });
      expect(named.namespace).toBe('lab-2');
      await expect(
        resolveNats({ env: { NATS_URL: server.url, OVERSEER_NAMESPACE: 'a.b' }, dataDir, log: quietLog() }),
      ).rejects.toThrow(/OVERSEER_NAMESPACE/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
      await server.stop();
    }
  });

  test('security - the start-up probe names exactly what an anonymous client may do', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'overseer-nats-anon-'));
    // Clients without credentials become 'anon', who may only read events.
    const conf = `no_auth_user: anon
authorization {
  users = [
    { user: anon, password: "anon-password", permissions: { publish: { allow: ["nothing"] }, subscribe: { allow: ["overseer.*.evt.>"] } } }
  ]
}
`;
    writeFileSync(join(dir, 'anon.conf'), conf);
    const server = await spawnNatsServer({ port: await findFreePort(), configFile: join(dir, 'anon.conf') });
    try {
      expect(await probeAnonymousAccess([server.url], 'lab')).toBe('subscribe to overseer.lab.evt.>');
      expect(await probeAnonymousAccess([server.url], undefined)).toBeUndefined();
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('security - a gateway alone on a NATS_URL server needs its core’s namespace', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'overseer-nats-gw-'));
    try {
      await expect(
        resolveNats({ env: { NATS_URL: 'nats://127.0.0.1:1' }, dataDir, log: quietLog(), role: 'gateway' }),
      ).rejects.toThrow(/set OVERSEER_NAMESPACE to the namespace the core uses/);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
