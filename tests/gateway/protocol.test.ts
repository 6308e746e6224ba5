// The core protocol: the client checks replies, the responder checks payloads.
import { describe, expect, it } from 'vitest';
import { BusRemoteError } from '../../adapters/nats/errors';
import { createMemoryBus } from '../../adapters/nats/memory-bus';
import type { QueryName, SubmitReply } from '../../adapters/nats/protocol';
import { createCoreClient, ProtocolReplyError, QUERY_NAMES, serveCoreProtocol } from '../../adapters/nats/protocol';
import { subjects } from '../../adapters/nats/subjects';

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
    bus.reply('overseer.>', (_p, subject) => {
      seen.push(subject);
      if (subject === subjects.reqSubmit) return okReply;
      if (subject.endsWith('.approve')) return { ok: false, code: 'refused', reason: 'own request' };
      return { ok: false };
    });
    const core = createCoreClient(bus);
    expect(
      await core.submit({
        action: 'start',
        target: { cluster: 'lab', vmid: 101 },
        params: {},
        force: false,
        requester: { id: 'a', role: 'admin' },
      }),
    ).toEqual(okReply);
    expect(await core.command('r1', 'approve', { by: { id: 'a', role: 'admin' } })).toEqual({
      ok: false,
      code: 'refused',
      reason: 'own request',
    });
    expect(await core.query('auth', { token: 'x' })).toEqual({ ok: false });
    expect(seen).toEqual(['overseer.req.submit', 'overseer.req.r1.approve', 'overseer.query.auth']);
  });

  it('protocol - a reply off the protocol is a ProtocolReplyError naming the field; unknown fields are dropped', async () => {
    const bus = createMemoryBus();
    bus.reply(subjects.query('tokenList'), () => ({
      items: [{ id: 't', name: 'n', role: 'admin', createdAt: 1, createdBy: 'x', hash: 'secret' }],
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
    serveCoreProtocol(bus, {
      submit: () => okReply,
      command: () => ({ ok: true, status: 'queued' }),
      queries: { sync: () => ({ started: true }) },
    });
    const remote = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e as BusRemoteError,
      );
    const bad = await remote(bus.request(subjects.reqSubmit, { action: 'start', requester: 'me' }));
    expect(bad).toBeInstanceOf(BusRemoteError);
    expect(bad?.remoteName).toBe('ProtocolPayloadError');
    expect(bad?.message).toMatch(/target/);
    expect((await remote(bus.request(subjects.query('nonsense'), {})))?.remoteName).toBe('UnknownQueryError');
    expect((await remote(bus.request(subjects.query('status'), {})))?.remoteName).toBe('UnknownQueryError');
    expect((await remote(bus.request(subjects.query('sync'), { extra: 1 })))?.remoteName).toBe('ProtocolPayloadError');
    expect(await bus.request(subjects.query('sync'), undefined)).toEqual({ started: true });
    expect(await bus.request(subjects.reqCommand('r1', 'cancel'), { by: { id: 'a', role: 'operator' } })).toEqual({
      ok: true,
      status: 'queued',
    });
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
    ];
    expect([...QUERY_NAMES].sort()).toEqual([...expected].sort());
  });
});
