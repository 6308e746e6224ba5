// The router of a core that shares the fleet (actors/core-router.ts), on a real nats-server: the gateways' calls
// reach the owner of the cluster they are about on that cluster's own subjects, credential and all; lists are
// merged; a call waits through a handover and says so when no owner comes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serveCoreRouter } from '../../actors/core-router';
import { SystemClock } from '../../adapters/clock';
import type { Log } from '../../adapters/log';
import type { NatsBus } from '../../adapters/nats';
import { NatsBus as Bus, clusterNamespace, connectBus } from '../../adapters/nats';
import type { CoreClient, Principal, SubmitPayload } from '../../protocol';
import { BusRemoteError, createCoreClient, serveCoreProtocol } from '../../protocol';
import type { TestNatsServer } from '../helpers/nats-server';
import { natsServerAvailable, startNatsServer } from '../helpers/nats-server';

const NS = 'router-test';
const quiet: Log = { stateChange() {}, info() {}, warn() {}, error() {} };
const ADMIN: Principal = { id: 'tok-admin', role: 'admin', name: 'admin', person: 'admin' };

let nats: TestNatsServer;
let routerConn: NatsBus;
let ownerConn: NatsBus;
let client: CoreClient;
let stopRouter: () => void;
const seen: { cluster: string; credential: string; payload: unknown }[] = [];
const owners = new Map<string, () => void>();

/** A stand-in owner of one cluster: answers on the cluster's subjects, admitting only the one known credential. */
function serveOwner(cluster: string): void {
  const bus = new Bus(ownerConn.nc, { name: `owner-${cluster}`, namespace: clusterNamespace(NS, cluster) });
  const submittedAt = cluster === 'a' ? 2 : 1;
  const requests = [
    {
      id: `${cluster}-r1`,
      action: 'stop',
      target: { cluster, vmid: 101 },
      params: {},
      force: false,
      requester: { id: ADMIN.id, role: ADMIN.role, name: ADMIN.name },
      status: 'completed',
      reasons: [],
      checks: [],
      history: [],
      tasks: [],
      submittedAt,
      updatedAt: submittedAt,
    },
  ];
  owners.set(
    cluster,
    serveCoreProtocol(
      bus,
      {
        submit: (payload: SubmitPayload) => {
          seen.push({ cluster, credential: 'secret', payload });
          return {
            requestId: `${cluster}-new`,
            decision: 'approved',
            reasons: [],
            checks: [],
            status: 'approved',
            replayed: false,
          };
        },
        command: (id: string) =>
          requests.some((r) => r.id === id)
            ? { ok: true, status: 'cancelled' }
            : { ok: false, code: 'not_found', reason: `request ${id} does not exist` },
        queries: {
          auth: (_: unknown, principal: Principal) => {
            seen.push({ cluster, credential: 'secret', payload: {} });
            return { principal };
          },
          requests: () => ({ items: requests as never[], total: requests.length }),
          silenceAdd: (payload: { until: number }) => {
            seen.push({ cluster, credential: 'secret', payload });
            return { id: `s-${cluster}`, ...payload, from: 1, by: ADMIN.id, createdAt: 1, state: 'active' };
          },
          maintenanceStart: (payload: { until: number }) => {
            seen.push({ cluster, credential: 'secret', payload });
            return { id: `m-${cluster}`, ...payload, from: 1, by: ADMIN.id, createdAt: 1, state: 'active' };
          },
        },
      } as never,
      { authenticate: (credential) => (credential === 'secret' ? ADMIN : undefined) },
    ),
  );
}

describe.runIf(natsServerAvailable)('core router', () => {
  beforeAll(async () => {
    nats = await startNatsServer({ jetstream: false });
    routerConn = await connectBus({ servers: nats.url, name: 'router', namespace: NS });
    ownerConn = await connectBus({ servers: nats.url, name: 'owner', namespace: NS });
    const gateway = await connectBus({ servers: nats.url, name: 'gateway', namespace: NS });
    client = createCoreClient(gateway, { credential: 'secret', timeoutMs: 5_000 });
    const clusterBuses = new Map<string, Bus>();
    stopRouter = serveCoreRouter({
      bus: routerConn,
      clusters: ['a', 'b'],
      clusterBus: (cluster) => {
        const bus =
          clusterBuses.get(cluster) ??
          new Bus(routerConn.nc, { name: 'router', namespace: clusterNamespace(NS, cluster) });
        clusterBuses.set(cluster, bus);
        return bus;
      },
      clock: new SystemClock(),
      log: quiet,
      handoverMs: 1_500,
      leases: () => [{ cluster: 'a', owner: 'core-1', ownedByMe: true, ageMs: 10, validForMs: 4_000 }],
    });
    serveOwner('a');
    serveOwner('b');
    await routerConn.nc.flush();
    await ownerConn.nc.flush();
  }, 30_000);

  afterAll(async () => {
    stopRouter?.();
    for (const off of owners.values()) off();
    await routerConn?.close();
    await ownerConn?.close();
    await nats?.stop();
  });

  it('core router - a submission reaches the owner of its target cluster, credential and all', async () => {
    const reply = await client.submit({
      action: 'stop',
      target: { cluster: 'b', vmid: 101 },
      params: {},
      force: false,
    });
    expect(reply.requestId).toBe('b-new');
    expect(seen.at(-1)?.cluster).toBe('b');
  });

  it('core router - the owner judges the credential: a wrong one is refused there, by name', async () => {
    const forged = client.withCredential('not-a-token');
    const error = await forged
      .submit({ action: 'stop', target: { cluster: 'a', vmid: 101 }, params: {}, force: false })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BusRemoteError);
    expect((error as BusRemoteError).remoteName).toBe('CredentialError');
  });

  it('core router - a command by request id finds the cluster that has the request', async () => {
    expect(await client.command('b-r1', 'cancel', {})).toEqual({ ok: true, status: 'cancelled' });
    expect(await client.command('zz', 'cancel', {})).toMatchObject({ ok: false, code: 'not_found' });
  });

  it('core router - a list is every owner’s items merged in order, paged after the merge', async () => {
    const all = await client.query('requests', {});
    expect(all.total).toBe(2);
    expect(all.items.map((r) => r.id)).toEqual(['a-r1', 'b-r1']);
    const second = await client.query('requests', { offset: 1, limit: 1 });
    expect(second.items.map((r) => r.id)).toEqual(['b-r1']);
  });

  it('core router - an unknown cluster is refused at once, naming the field', async () => {
    const error = await client
      .submit({ action: 'stop', target: { cluster: 'nope', vmid: 1 }, params: {}, force: false })
      .catch((e: unknown) => e);
    expect((error as BusRemoteError).remoteName).toBe('InputRefusedError');
    expect((error as BusRemoteError).remoteField).toBe('cluster');
  });

  it('core router - a call waits through a handover, and says so when no owner comes', async () => {
    owners.get('a')?.();
    const waiting = client.submit({ action: 'stop', target: { cluster: 'a', vmid: 7 }, params: {}, force: false });
    setTimeout(() => serveOwner('a'), 400);
    expect((await waiting).requestId).toBe('a-new');
    owners.get('b')?.();
    const error = await client
      .submit({ action: 'stop', target: { cluster: 'b', vmid: 7 }, params: {}, force: false })
      .catch((e: unknown) => e);
    expect((error as BusRemoteError).remoteName).toBe('NoOwnerError');
    serveOwner('b');
  });

  it('core router - a token check goes to an owner that listens now, not held up by another cluster’s handover', async () => {
    owners.get('a')?.();
    seen.length = 0;
    // Owner 'a' comes back while the check runs: waiting through its handover would get its answer.
    let cameBack = false;
    const back = setTimeout(() => {
      cameBack = true;
      serveOwner('a');
    }, 400);
    const { principal } = await client.query('auth', {});
    expect(principal.id).toBe(ADMIN.id);
    expect(seen.map((s) => s.cluster)).toEqual(['b']);
    clearTimeout(back);
    if (!cameBack) serveOwner('a');
  });

  it('core router - a guest or node window and a silence go to the owner of the cluster they name only', async () => {
    seen.length = 0;
    const until = Date.now() + 3_600_000;
    const silence = (await client.query('silenceAdd', {
      kind: 'vm-unexpected-stop',
      guest: 'b/102',
      until,
      reason: 'patching',
    } as never)) as {
      id: string;
    };
    const window = (await client.query('maintenanceStart', {
      scope: 'node',
      target: 'a/pve1',
      until,
      reason: 'patching',
    } as never)) as {
      id: string;
    };
    expect([silence.id, window.id]).toEqual(['s-b', 'm-a']);
    expect(seen.map((s) => s.cluster)).toEqual(['b', 'a']);
  });
});
