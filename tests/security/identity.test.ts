// Identity is proven, never claimed: the core resolves who acts from each call's credential (the caller's API
// token) and believes nothing a payload says about its sender. The embedded nats-server `npm start` runs carries
// the calls: the core connects as its 'core' user, and every call below is made with the gateway's NATS
// credentials — a process that holds them (the gateway, or whoever stole its password) gains nothing by forging.
// The core is the real one (Overseer runtime, SQLite, core responder).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../actors/config';
import { serveCore } from '../../actors/core-service';
import type { NatsEndpoint } from '../../actors/nats-endpoint';
import { resolveNats } from '../../actors/nats-endpoint';
import { Overseer } from '../../actors/overseer';
import { SimulatedClock } from '../../adapters/clock';
import { createMemoryLog } from '../../adapters/log';
import type { NatsBus } from '../../adapters/nats';
import { connectBus, readNatsPasswords } from '../../adapters/nats';
import type { CoreClient } from '../../protocol';
import { BusRemoteError, createCoreClient, subjects } from '../../protocol';
import { StateStore } from '../../state';
import { demoInventory } from '../helpers/inventory';

let nats: NatsEndpoint;
/** The gateway's connection: every call of the tests goes through it. */
let bus: NatsBus;
let coreBus: NatsBus;
let store: StateStore;
let overseer: Overseer;
let stopServing: () => void;
let dir: string;
const tokens: Record<'alice' | 'bob' | 'olga', { id: string; token: string }> = {} as never;

/** The name of the error a call was refused with ('answered' when it was not refused). */
const refusal = (p: Promise<unknown>) =>
  p.then(
    () => 'answered',
    (e: unknown) => (e instanceof BusRemoteError ? e.remoteName : String(e)),
  );
const as = (who: keyof typeof tokens): CoreClient => createCoreClient(bus).withCredential(tokens[who].token);
const refusedRows = () => store.audit.list({ kind: 'call.refused' });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'overseer-identity-'));
  const quiet = { stateChange() {}, info() {}, warn() {}, error() {} };
  nats = await resolveNats({ env: { PATH: process.env.PATH }, dataDir: dir, log: quiet, role: 'all' });
  const passwords = readNatsPasswords(dir);
  if (!passwords) throw new Error('the embedded nats-server wrote no passwords');
  coreBus = await connectBus({ servers: nats.url, user: 'core', pass: passwords.core, name: 'identity-core' });
  bus = await connectBus({ servers: nats.url, user: 'gateway', pass: passwords.gateway, name: 'identity-gateway' });
  const clock = new SimulatedClock(Date.UTC(2026, 0, 1));
  store = StateStore.open(join(dir, 'overseer.db'));
  const config = parseConfig({});
  overseer = new Overseer({ clock, log: createMemoryLog(clock, 'error'), config, store, platforms: new Map() });
  overseer.observe(demoInventory({ at: clock.now() }));
  for (const [name, role] of [
    ['alice', 'admin'],
    ['bob', 'admin'],
    ['olga', 'operator'],
  ] as const) {
    const { record, token } = store.tokens.create(name, role, 'test', clock.now());
    tokens[name] = { id: record.id, token };
  }
  stopServing = serveCore({ bus: coreBus, overseer, store, config, clock, startedAt: clock.now() });
  // The core's subscriptions are at the server before the first call (no "no responders" race).
  await coreBus.nc.flush();
});

afterAll(async () => {
  stopServing?.();
  overseer?.stop();
  await bus?.close();
  await coreBus?.close();
  store?.close();
  await nats?.server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('security - identity', () => {
  it('security - a call with no credential or a forged one is refused, audited, and nothing else happens', async () => {
    const before = store.requests.list().length;
    const submit = { action: 'stop', target: { cluster: 'lab', vmid: 101 }, params: {}, force: false };
    const refusedBefore = refusedRows().length;
    // The old wire shape: a payload that names its requester. It is no envelope and carries no credential.
    expect(
      await refusal(bus.request(subjects.reqSubmit, { ...submit, requester: { id: 'mallory', role: 'admin' } })),
    ).toBe('CredentialError');
    expect(await refusal(bus.request(subjects.reqSubmit, { payload: submit }))).toBe('CredentialError');
    expect(
      await refusal(
        createCoreClient(bus)
          .withCredential('ovs_forged')
          .submit(submit as never),
      ),
    ).toBe('CredentialError');
    expect(await refusal(createCoreClient(bus).query('tokenCreate', { name: 'mallory', role: 'admin' }))).toBe(
      'CredentialError',
    );
    expect(store.requests.list()).toHaveLength(before);
    expect(store.tokens.list().map((t) => t.name)).not.toContain('mallory');
    const rows = refusedRows().slice(refusedBefore);
    expect(rows).toHaveLength(4);
    expect(rows.every((r) => r.actor === 'unauthenticated')).toBe(true);
    expect(rows.map((r) => (r.data as { subject: string }).subject)).toContain('overseer.query.tokenCreate');
  });

  it('security - a role or requester claimed anywhere in a call gains nothing', async () => {
    const refusedBefore = refusedRows().length;
    const destroy = { action: 'destroy', target: { cluster: 'lab', vmid: 101 }, params: {}, force: false } as const;
    // Claims in the payload are refused by the strict schema: nothing is decided.
    const claimed = { ...destroy, requester: { id: tokens.alice.id, role: 'admin' } };
    expect(await refusal(as('olga').submit(claimed as never))).toBe('ProtocolPayloadError');
    // Claims beside the credential in the envelope are no envelope either.
    expect(
      await refusal(
        bus.request(subjects.reqSubmit, { credential: tokens.olga.token, role: 'admin', payload: destroy }),
      ),
    ).toBe('CredentialError');
    // Well-formed: the gate judges the operator the token says, whatever the operator wanted to be.
    const answer = await as('olga').submit(destroy);
    expect(answer.decision).toBe('denied');
    expect(answer.reasons.join(' ')).toMatch(/operator/);
    expect(store.requests.get(answer.requestId)?.requester).toMatchObject({ id: tokens.olga.id, role: 'operator' });
    // Admin-only reads and token creation need an admin credential.
    expect(await refusal(as('olga').query('tokenList', {}))).toBe('RoleRefusedError');
    expect(await refusal(as('olga').query('tokenCreate', { name: 'olga2', role: 'admin' }))).toBe('RoleRefusedError');
    const rows = refusedRows().slice(refusedBefore);
    expect(rows.filter((r) => r.actor === tokens.olga.id)).toHaveLength(2);
  });

  it("security - no token can take the Overseer's reserved name, and who created a token is never claimed", async () => {
    expect(await refusal(as('alice').query('tokenCreate', { name: 'overseer', role: 'admin' }))).toBe(
      'InputRefusedError',
    );
    expect(await refusal(as('alice').query('tokenCreate', { name: 'x', role: 'admin', by: 'overseer' } as never))).toBe(
      'ProtocolPayloadError',
    );
    const created = await as('alice').query('tokenCreate', { name: 'carol', role: 'operator' });
    expect(store.tokens.get(created.id)).toMatchObject({ createdBy: tokens.alice.id, person: created.id });
  });

  it('security - an approval is judged by the approving credential: not the requester, not the same person', async () => {
    const answer = await as('alice').submit({
      action: 'destroy',
      target: { cluster: 'lab', vmid: 114 },
      params: {},
      force: true,
    });
    expect(answer.decision).toBe('awaiting_approval');
    const id = answer.requestId;
    // A forged approval: alice's credential, claiming to be bob in the payload.
    expect(await refusal(as('alice').command(id, 'approve', { by: { id: tokens.bob.id } } as never))).toBe(
      'ProtocolPayloadError',
    );
    expect(await as('alice').command(id, 'approve', {})).toMatchObject({ ok: false, code: 'refused' });
    // An admin says alice's second token is alice: it cannot approve her request either.
    const second = await as('bob').query('tokenCreate', {
      name: 'alice-laptop',
      role: 'admin',
      samePersonAs: tokens.alice.id,
    });
    const laptop = createCoreClient(bus).withCredential(second.token);
    const sameperson = await laptop.command(id, 'approve', {});
    expect(sameperson).toMatchObject({ ok: false, code: 'refused' });
    expect(sameperson.ok ? '' : sameperson.reason).toMatch(/same person/);
    expect(store.requests.get(id)?.status).toBe('awaiting_approval');
    // Another person approves.
    expect(await as('bob').command(id, 'approve', {})).toMatchObject({ ok: true });
    const approved = store.requests.get(id);
    expect(approved?.history.find((h) => h.status === 'approved' || h.status === 'failed')?.by).toBe(tokens.bob.id);
  });
});
