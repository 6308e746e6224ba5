// A test double for the core process only: answers the protocol subjects (through serveCoreProtocol, so every
// payload the gateway sends is checked against the protocol's schemas) from a small in-memory fleet.
// Its gate is deliberately tiny: role per action, target exists, production needs force and then approval.
// Its labs (fake-labs.ts) read lab files with the real parser and deploy them in memory, one step per read.

import { ACTION_ROLE, ROLE_RANK, TERMINAL_REQUEST_STATUSES } from '../../machines/types';
import type {
  Bus,
  CommandReply,
  Principal,
  QueryMap,
  RequestView,
  Role,
  SubmitPayload,
  SubmitReply,
  TokenInfo,
  VmView,
} from '../../protocol';
import { InputRefusedError, serveCoreProtocol } from '../../protocol';
import { expand, fakeBackups, fakeSnapshots } from './fake-fleet';
import type { FakeIncidents } from './fake-incidents';
import { createFakeIncidents } from './fake-incidents';
import type { FakeLabs } from './fake-labs';
import { createFakeLabs } from './fake-labs';
import type { FakeMaintenance } from './fake-maintenance';
import { createFakeMaintenance } from './fake-maintenance';

type Check = SubmitReply['checks'][number];

const vm = (vmid: number, over: Partial<VmView> = {}): VmView => ({
  cluster: 'lab',
  vmid,
  type: 'qemu',
  name: `vm${vmid}`,
  node: 'pve1',
  status: 'running',
  tags: [],
  template: false,
  haManaged: false,
  cpus: 2,
  maxmem: 2 ** 31,
  maxdisk: 2 ** 34,
  mem: 2 ** 30,
  cpu: 0.1,
  uptime: 100,
  state: 'running',
  production: false,
  ...over,
});

type Submitted = SubmitPayload & { requester: Principal };

export interface FakeCore {
  /** Plaintext tokens by role (plus a second admin). */
  tokens: { observer: string; operator: string; admin: string; admin2: string };
  /** Every submission received, as the gateway sent it, with the requester the core resolved from its credential. */
  submissions: Submitted[];
  requests: Map<string, RequestView>;
  /** The fleet; tests may add guests (a container: `type: 'lxc'`). */
  vms: VmView[];
  syncs: number;
  /** i1 (critical, being remediated) and i2 (resolved). */
  incidents: FakeIncidents;
  /** Maintenance windows and silences: the real handlers on an in-memory store and the fake's inventory. */
  maintenance: FakeMaintenance;
  /** Labs web (ready), draft and review (awaiting approval), old (destroyed); applied files deploy in memory. */
  labs: FakeLabs;
  stop(): void;
}

export function startFakeCore(bus: Bus, now: () => number = () => 1_700_000_000_000): FakeCore {
  const vms: VmView[] = [
    vm(101),
    vm(102, { node: 'pve2', status: 'stopped', state: 'stopped', tags: ['web'] }),
    vm(114, { name: 'db', tags: ['prod'], production: true }),
  ];
  const hosts = ['pve1', 'pve2'].map((node) => ({
    cluster: 'lab',
    node,
    status: 'online' as const,
    cpu: 0.2,
    maxcpu: 16,
    mem: 2 ** 33,
    maxmem: 2 ** 36,
    disk: 2 ** 38,
    maxdisk: 2 ** 40,
    state: 'online',
  }));
  const tokenInfo = new Map<string, TokenInfo & { secret: string }>();
  const addToken = (name: string, role: Role, by: string) => {
    const id = `tok${tokenInfo.size + 1}`;
    const secret = `ovs_${name}_${Math.random().toString(36).slice(2)}`;
    tokenInfo.set(id, { id, name, role, createdAt: now(), createdBy: by, person: id, secret });
    return { id, name, role, token: secret };
  };
  const tokens = {
    observer: addToken('olga', 'observer', 'setup').token,
    operator: addToken('oscar', 'operator', 'setup').token,
    admin: addToken('ada', 'admin', 'setup').token,
    admin2: addToken('alan', 'admin', 'setup').token,
  };
  const requests = new Map<string, RequestView>();
  const idempotent = new Map<string, SubmitReply>();
  const submissions: Submitted[] = [];
  const incidents = createFakeIncidents(now);
  const maintenance = createFakeMaintenance(now);
  const labs = createFakeLabs(now);
  const snapshots = fakeSnapshots();
  const fake: FakeCore = {
    tokens,
    submissions,
    requests,
    vms,
    syncs: 0,
    incidents,
    maintenance,
    labs,
    stop: () => {},
  };

  const gate = (
    p: Submitted,
  ): { checks: Check[]; decision: SubmitReply['decision']; members?: SubmitReply['members'] } => {
    const checks: Check[] = [];
    const needed = ACTION_ROLE[p.action];
    if (ROLE_RANK[p.requester.role] < ROLE_RANK[needed]) {
      checks.push({ check: 'authorization', outcome: 'deny', reason: `${p.action} needs the ${needed} role` });
      return { checks, decision: 'denied' };
    }
    checks.push({ check: 'authorization', outcome: 'pass', reason: `${p.requester.role} may ${p.action}` });
    const expansion = expand(
      p,
      vms,
      hosts.map((h) => h.node),
    );
    checks.push(...expansion.checks);
    const members = expansion.members ? { members: expansion.members } : {};
    if (expansion.denied) return { checks, decision: 'denied' };
    const production = expansion.guests.find((g) => g.production);
    const moving = p.action === 'migrate' || p.action === 'drain';
    if (production && p.action !== 'start' && p.action !== 'snapshot') {
      if (!p.force && !moving) {
        const reason = `VM ${production.vmid} is production: needs force`;
        checks.push({ check: 'production', outcome: 'deny', reason });
        return { checks, decision: 'denied', ...members };
      }
      checks.push({ check: 'production', outcome: 'approval', reason: 'production: a second person must approve' });
      return { checks, decision: 'awaiting_approval', ...members };
    }
    return { checks, decision: 'approved', ...members };
  };

  const setStatus = (r: RequestView, status: RequestView['status'], by?: string, note?: string) => {
    r.status = status;
    r.updatedAt = now();
    r.history.push({ status, at: now(), ...(by ? { by } : {}), ...(note ? { note } : {}) });
  };

  /** Each read of a running request moves it one step: queued → executing → completed (or failed for 102). */
  const progress = (r: RequestView) => {
    if (r.status === 'queued') {
      setStatus(r, 'executing');
      // A deploy's clone creates a VM: the task records its new VMID.
      const created = r.action === 'deploy' ? { vmid: 200 + requests.size } : {};
      r.tasks.push({ upid: `UPID:pve1:0000${r.id}:start`, node: 'pve1', ...created });
    } else if (r.status === 'executing') {
      if (r.target.vmid === 102) {
        r.error = 'task failed: VM 102 is locked (backup)';
        setStatus(r, 'failed');
      } else setStatus(r, 'completed');
    }
  };

  const submit = (payload: SubmitPayload, principal: Principal): SubmitReply => {
    const p: Submitted = { ...payload, requester: principal };
    submissions.push(p);
    const key = p.idempotencyKey ? `${p.requester.id}\u0000${p.idempotencyKey}` : undefined;
    const earlier = key ? idempotent.get(key) : undefined;
    if (earlier) return { ...earlier, replayed: true };
    const { checks, decision, members } = gate(p);
    const reasons = checks.filter((c) => c.outcome !== 'pass').map((c) => c.reason);
    const bulk = members ? { members } : {};
    if (p.dryRun) {
      const status = decision === 'approved' ? 'queued' : decision;
      return { requestId: '', decision, reasons, checks, status, replayed: false, dryRun: true, ...bulk };
    }
    const id = `r${requests.size + 1}`;
    const r: RequestView = {
      id,
      action: p.action,
      target: p.target,
      params: p.params,
      force: p.force,
      requester: { id: principal.id, role: principal.role, name: principal.name },
      origin: 'human',
      status: 'received',
      decision,
      reasons,
      checks,
      ...bulk,
      history: [],
      tasks: [],
      submittedAt: now(),
      updatedAt: now(),
    };
    setStatus(r, 'received', p.requester.id);
    setStatus(r, decision === 'approved' ? 'queued' : decision);
    requests.set(id, r);
    const reply: SubmitReply = {
      requestId: id,
      decision,
      reasons: r.reasons,
      checks,
      status: r.status,
      replayed: false,
      ...bulk,
    };
    if (key) idempotent.set(key, reply);
    return reply;
  };

  const command = (id: string, cmd: 'approve' | 'deny' | 'cancel', by: { id: string }, reason?: string) => {
    const r = requests.get(id);
    if (!r) return { ok: false, code: 'not_found', reason: `no request ${id}` } satisfies CommandReply;
    if (TERMINAL_REQUEST_STATUSES.has(r.status)) {
      return { ok: false, code: 'conflict', reason: `request ${id} is already ${r.status}` } satisfies CommandReply;
    }
    if (cmd !== 'cancel' && r.status !== 'awaiting_approval') {
      return { ok: false, code: 'conflict', reason: `request ${id} is not awaiting approval` } satisfies CommandReply;
    }
    if (cmd === 'approve' && by.id === r.requester.id) {
      return {
        ok: false,
        code: 'refused',
        reason: 'the requester cannot approve their own request',
      } satisfies CommandReply;
    }
    const next = cmd === 'approve' ? 'queued' : cmd === 'deny' ? 'denied' : 'cancelled';
    setStatus(r, next, by.id, reason);
    return { ok: true, status: r.status } satisfies CommandReply;
  };

  const principalOf = (secret: string): Principal | undefined => {
    for (const t of tokenInfo.values()) {
      if (t.secret === secret && t.revokedAt === undefined)
        return { id: t.id, name: t.name, role: t.role, person: t.person };
    }
    return undefined;
  };

  /** Like the core: a filter naming an unknown cluster is refused, naming the field. */
  const knownCluster = (cluster: string | undefined) => {
    if (cluster !== undefined && cluster !== 'lab') {
      throw new InputRefusedError(`no cluster '${cluster}' (clusters: lab)`, 'cluster');
    }
  };

  const count = (values: string[]) => {
    const out: Record<string, number> = {};
    for (const v of values) out[v] = (out[v] ?? 0) + 1;
    return out;
  };

  const queries: {
    [W in keyof QueryMap]: (p: QueryMap[W]['payload'], principal: Principal) => QueryMap[W]['reply'];
  } = {
    status: () => ({
      state: 'running',
      escalated: [],
      loops: { sync: { state: 'idle', cycles: 3, failures: 0 } },
      clusters: [{ cluster: 'lab', reachable: true, quorate: true }],
      startedAt: now() - 60_000,
      now: now(),
      incidents: incidents.openBySeverity(),
    }),
    summary: () => ({
      vms: count(vms.map((v) => v.state)),
      hosts: count(hosts.map((h) => h.state)),
      requests: count([...requests.values()].map((r) => r.status)),
    }),
    health: () => ({ ok: true, checks: [{ name: 'platform:lab', ok: true, detail: 'reachable, quorate' }] }),
    vms: (p) => {
      knownCluster(p.cluster);
      const items = vms.filter(
        (v) =>
          (p.cluster === undefined || v.cluster === p.cluster) &&
          (p.node === undefined || v.node === p.node) &&
          (p.type === undefined || v.type === p.type) &&
          (p.state === undefined || v.state === p.state) &&
          (p.tag === undefined || v.tags.includes(p.tag)),
      );
      const offset = p.offset ?? 0;
      return { items: items.slice(offset, offset + (p.limit ?? 100)), total: items.length };
    },
    vm: (p) => vms.find((v) => v.cluster === p.cluster && v.vmid === p.vmid) ?? null,
    hosts: (p) => {
      knownCluster(p.cluster);
      const items = hosts.filter((h) => p.cluster === undefined || h.cluster === p.cluster);
      const offset = p.offset ?? 0;
      return { items: items.slice(offset, offset + (p.limit ?? 1000)), total: items.length };
    },
    requests: (p) => {
      /** Its target is the guest, or it is a bulk request that lists it as a member (as the core answers). */
      const isAbout = (r: RequestView, guest: string) => {
        const [cluster, vmid] = guest.split('/');
        return (
          r.target.cluster === cluster &&
          (r.target.vmid === Number(vmid) || (r.members?.some((m) => m.vmid === Number(vmid)) ?? false))
        );
      };
      const items = [...requests.values()]
        .filter(
          (r) =>
            (p.status === undefined || r.status === p.status) &&
            (p.requester === undefined || r.requester.id === p.requester) &&
            (p.idPrefix === undefined || r.id.startsWith(p.idPrefix)) &&
            (p.guest === undefined || isAbout(r, p.guest)),
        )
        .reverse();
      const offset = p.offset ?? 0;
      return { items: items.slice(offset, offset + (p.limit ?? 100)), total: items.length };
    },
    request: (p) => {
      const r = requests.get(p.id);
      if (!r) return null;
      const view = structuredClone(r);
      progress(r);
      return view;
    },
    sync: () => {
      fake.syncs += 1;
      return { started: true };
    },
    auth: (_, principal) => ({ principal }),
    tokenCreate: (p, by) => addToken(p.name, p.role, by.id),
    tokenList: (p) => {
      const items = [...tokenInfo.values()].map(({ secret: _s, ...info }) => info);
      const offset = p.offset ?? 0;
      return { items: items.slice(offset, offset + (p.limit ?? 1000)), total: items.length };
    },
    audit: () => ({
      items: [],
      next: null,
      verification: { ok: true, rows: 0, keyedFrom: null, checkpoint: null, head: { seq: 0, hash: '0'.repeat(64) } },
    }),
    tokenRevoke: (p) => {
      const t = tokenInfo.get(p.id);
      if (!t || t.revokedAt !== undefined) return { ok: false };
      t.revokedAt = now();
      return { ok: true };
    },
    snapshots: (p) => ({ items: snapshots.get(`${p.cluster}/${p.vmid}`) ?? [] }),
    backups: (p) => {
      knownCluster(p.cluster);
      return fakeBackups(p, vms, now());
    },
    // The inspector: one actor, the root, with a one-state machine.
    actors: () => ({ items: [{ id: 'overseer', kind: 'overseer' as const, state: 'running' }], total: 1 }),
    actorInspect: ({ id }) =>
      id === 'overseer'
        ? {
            id,
            kind: 'overseer' as const,
            value: 'running',
            state: 'running',
            status: 'active',
            machine: { id: 'overseer', key: 'overseer', type: 'compound', states: { running: { type: 'atomic' } } },
            events: [{ type: 'RUN_NOW', at: now() }],
          }
        : null,
    // A fixed plan: the gateway only passes the file through.
    labPlan: (p) => ({
      ok: true,
      lab: 'fake',
      cluster: 'lab',
      issues: [],
      warnings: [],
      items: [{ kind: 'pool', op: 'create', description: `pool 'lab-fake' (${p.file.length} bytes read)` }],
      lines: [`+ pool 'lab-fake' (${p.file.length} bytes read)`, "lab 'fake': 1 to create"],
    }),
    ...labs.handlers,
    ...incidents.handlers,
    ...maintenance.handlers,
  };

  const stopServing = serveCoreProtocol(
    bus,
    { submit, command: (id, cmd, p, by) => command(id, cmd, by, p.reason), queries },
    { authenticate: principalOf },
  );
  fake.stop = () => {
    stopServing();
    maintenance.close();
  };
  return fake;
}
