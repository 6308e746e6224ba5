// The core protocol: the client checks replies, the responder checks payloads.
import { describe, expect, it } from 'vitest';
import { createMemoryBus } from '../../adapters/nats/memory-bus';
import type { Principal, QueryName, Refusal, SubmitReply } from '../../protocol';
import {
  BusRemoteError,
  createCoreClient,
  ProtocolReplyError,
  QUERY_NAMES,
  serveCoreProtocol,
  subjects,
} from '../../protocol';

const okReply: SubmitReply = {
  requestId: 'r1',
  decision: 'approved',
  reasons: [],
  checks: [],
  status: 'queued',
  replayed: false,
};

describe('nats protocol', () => {
  it('protocol - the client sends on the protocol subjects and returns validated replies', async () => {
    const bus = createMemoryBus();
    const seen: string[] = [];
    const envelopes: unknown[] = [];
    bus.reply('overseer.>', (message, subject) => {
      seen.push(subject);
      envelopes.push(message);
      if (subject === subjects.reqSubmit) return okReply;
      if (subject.endsWith('.approve')) return { ok: false, code: 'refused', reason: 'own request' };
      return { principal: { id: 't1', name: 'ada', role: 'admin', person: 't1' } };
    });
    const core = createCoreClient(bus).withCredential('ovs_secret');
    expect(
      await core.submit({ action: 'start', target: { cluster: 'lab', vmid: 101 }, params: {}, force: false }),
    ).toEqual(okReply);
    expect(await core.command('r1', 'approve', {})).toEqual({ ok: false, code: 'refused', reason: 'own request' });
    expect((await core.query('auth', {})).principal.id).toBe('t1');
    expect(seen).toEqual(['overseer.req.submit', 'overseer.req.r1.approve', 'overseer.query.auth']);
    // Every call travels in an envelope with the caller's credential; no payload names who acts.
    expect(envelopes[1]).toEqual({ credential: 'ovs_secret', payload: {} });
  });

  it('protocol - a reply off the protocol is a ProtocolReplyError naming the field; unknown fields are dropped', async () => {
    const bus = createMemoryBus();
    bus.reply(subjects.query('tokenList'), () => ({
      items: [{ id: 't', name: 'n', role: 'admin', createdAt: 1, createdBy: 'x', person: 't', hash: 'secret' }],
      total: 1,
    }));
    bus.reply(subjects.query('vm'), () => ({ cluster: 'lab' }));
    const core = createCoreClient(bus);
    const list = await core.query('tokenList', {});
    expect(list.items[0]).not.toHaveProperty('hash');
    const err = await core.query('vm', { cluster: 'lab', vmid: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ProtocolReplyError);
    expect((err as Error).message).toMatch(/vmid/);
  });

  it('protocol - the responder refuses payloads off the protocol, unknown and unwired queries', async () => {
    const bus = createMemoryBus();
    const ada: Principal = { id: 't1', name: 'ada', role: 'admin', person: 't1' };
    serveCoreProtocol(
      bus,
      {
        submit: () => okReply,
        command: () => ({ ok: true, status: 'queued' }),
        queries: { sync: () => ({ started: true }) },
      },
      { authenticate: (credential) => (credential === 'good' ? ada : undefined) },
    );
    const remote = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e as BusRemoteError,
      );
    const call = (subject: string, payload: unknown) => bus.request(subject, { credential: 'good', payload });
    const bad = await remote(call(subjects.reqSubmit, { action: 'start', requester: 'me' }));
    expect(bad).toBeInstanceOf(BusRemoteError);
    expect(bad?.remoteName).toBe('ProtocolPayloadError');
    // The core's words, after the subject the bus error puts first.
    const said = (e: BusRemoteError | undefined) => e?.message.slice(e.message.indexOf('invalid payload'));
    expect(said(bad)).toBe(
      'invalid payload on overseer.req.submit: target: required; params: required; force: required; requester: unknown field',
    );
    expect(said(await remote(call(subjects.reqSubmit, [])))).toBe(
      'invalid payload on overseer.req.submit: payload: expected object, received array',
    );
    expect((await remote(call(subjects.query('nonsense'), {})))?.remoteName).toBe('UnknownQueryError');
    expect((await remote(call(subjects.query('status'), {})))?.remoteName).toBe('UnknownQueryError');
    const extra = await remote(call(subjects.query('sync'), { extra: 1 }));
    expect(extra?.remoteName).toBe('ProtocolPayloadError');
    expect(said(extra)).toBe('invalid payload on overseer.query.sync: extra: unknown field');
    expect(await call(subjects.query('sync'), undefined)).toEqual({ started: true });
    expect(await call(subjects.reqCommand('r1', 'cancel'), {})).toEqual({ ok: true, status: 'queued' });
  });

  it('protocol - a call without a valid credential or with too low a role is refused before any handler runs', async () => {
    const bus = createMemoryBus();
    const olga: Principal = { id: 't2', name: 'olga', role: 'observer', person: 't2' };
    const handled: string[] = [];
    const refusals: Refusal[] = [];
    serveCoreProtocol(
      bus,
      {
        submit: () => {
          handled.push('submit');
          return okReply;
        },
        command: () => ({ ok: true, status: 'queued' }),
        queries: {
          sync: () => {
            handled.push('sync');
            return { started: true };
          },
        },
      },
      { authenticate: (c) => (c === 'olga' ? olga : undefined), refused: (r) => refusals.push(r) },
    );
    const name = (p: Promise<unknown>) =>
      p.then(
        () => 'answered',
        (e: BusRemoteError) => e.remoteName,
      );
    const submit = { action: 'start', target: { cluster: 'lab', vmid: 1 }, params: {}, force: false };
    // The old shape, a payload claiming its requester, is no envelope at all.
    expect(await name(bus.request(subjects.reqSubmit, { ...submit, requester: { id: 'x', role: 'admin' } }))).toBe(
      'CredentialError',
    );
    expect(await name(bus.request(subjects.reqSubmit, { payload: submit }))).toBe('CredentialError');
    expect(await name(bus.request(subjects.reqSubmit, { credential: 'forged', payload: submit }))).toBe(
      'CredentialError',
    );
    expect(await name(bus.request(subjects.query('sync'), { credential: 'olga', payload: {} }))).toBe(
      'RoleRefusedError',
    );
    expect(handled).toEqual([]);
    expect(refusals.map((r) => [r.subject, r.principal?.id])).toEqual([
      ['overseer.req.submit', undefined],
      ['overseer.req.submit', undefined],
      ['overseer.req.submit', undefined],
      ['overseer.query.sync', 't2'],
    ]);
  });

  it('protocol - every query has a schema pair', () => {
    const expected: QueryName[] = [
      'status',
      'summary',
      'health',
      'vms',
      'vm',
      'hosts',
      'requests',
      'request',
      'sync',
      'auth',
      'tokenCreate',
      'tokenList',
      'tokenRevoke',
      'audit',
      'incidents',
      'incident',
      'incidentAck',
      'incidentResolve',
      'maintenanceList',
      'maintenanceStart',
      'maintenanceEnd',
      'snapshots',
      'backups',
      'labPlan',
      'labApply',
      'labList',
      'lab',
      'labApprove',
      'labDeny',
      'labDestroy',
      'labSnapshot',
      'labRevert',
      'actors',
      'actorInspect',
      'silenceList',
      'silenceAdd',
      'silenceRemove',
    ];
    expect([...QUERY_NAMES].sort()).toEqual([...expected].sort());
  });
});
