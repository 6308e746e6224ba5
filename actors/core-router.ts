// A core's router when several cores share the fleet (issue 15, docs/multi-core.md): it answers the gateways'
// subjects (the shared queue group, so any core's gateway reaches any core) and hands each call to the owner of the
// cluster it is about, on that cluster's own subjects, which only the owning core's runtime subscribes to. The
// router decides nothing and believes nothing: the message goes on as it came, credential included, and the owner
// admits it as a single core does. A call about a cluster that has no owner for a moment (a handover) waits for
// the new owner, up to `handoverMs`; only "nobody is listening" is retried, never a call an owner may have taken.
// A call any owner can answer (a token check) goes first to an owner that listens now.
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import type { Bus, QueryName, Unsubscribe } from '../protocol';
import { BusRemoteError, BusUnavailableError, parseSubject, subjects } from '../protocol';

export interface CoreRouterDeps {
  /** The installation's bus: the subjects the gateways call. */
  bus: Bus;
  /** Every configured Proxmox cluster, in configuration order. */
  clusters: readonly string[];
  /** A bus whose subjects reach the runtime of the core that owns `cluster`. */
  clusterBus: (cluster: string) => Bus;
  clock: Clock;
  log: Log;
  /** How long a call waits for a cluster to have an owner (the lease time plus a renewal). */
  handoverMs: number;
  /** Per call to an owner. */
  timeoutMs?: number;
  queue?: string;
  /** This core's own view of the leases, added to `status` and `health`. */
  leases?: () => LeaseView[];
}

export interface LeaseView {
  cluster: string;
  owner?: string | undefined;
  ownedByMe: boolean;
  ageMs: number;
  validForMs: number;
}

/** No core owns the cluster (a handover took longer than the lease allows). */
export class NoOwnerError extends BusUnavailableError {
  override name = 'NoOwnerError';
}

/** An owner's refusal, passed on with its own name, message and field, as if the owner had answered directly. */
class OwnerAnswerError extends Error {
  readonly field: string | undefined;
  constructor(remote: BusRemoteError) {
    const prefix = `${remote.subject}: `;
    super(remote.message.startsWith(prefix) ? remote.message.slice(prefix.length) : remote.message);
    this.name = remote.remoteName;
    this.field = remote.remoteField;
  }
}

type Envelope = { payload?: Record<string, unknown> } & Record<string, unknown>;

/** Queries answered by one owner chosen by the payload's cluster; without one, by every owner, merged. */
const LISTS: Partial<Record<QueryName, (a: Record<string, unknown>, b: Record<string, unknown>) => number>> = {
  vms: (a, b) => String(a.cluster).localeCompare(String(b.cluster)) || Number(a.vmid) - Number(b.vmid),
  hosts: (a, b) => String(a.cluster).localeCompare(String(b.cluster)) || String(a.node).localeCompare(String(b.node)),
  requests: (a, b) => Number(b.submittedAt) - Number(a.submittedAt),
  incidents: (a, b) => Number(b.openedAt) - Number(a.openedAt),
  actors: (a, b) => String(a.id).localeCompare(String(b.id)),
  labList: (a, b) => String(a.cluster).localeCompare(String(b.cluster)) || String(a.name).localeCompare(String(b.name)),
  maintenanceList: (a, b) => Number(b.startsAt ?? 0) - Number(a.startsAt ?? 0),
  silenceList: (a, b) => Number(b.createdAt ?? 0) - Number(a.createdAt ?? 0),
  audit: (a, b) => Number(a.at) - Number(b.at),
};
/** Queries about records every core holds alike (tokens): any one owner answers. */
const ANY_OWNER = new Set<QueryName>(['auth', 'tokenCreate', 'tokenList', 'tokenRevoke']);

export function serveCoreRouter(deps: CoreRouterDeps): Unsubscribe {
  const { bus, clusters, clock, log } = deps;
  const replyOpts = deps.queue ? { queue: deps.queue } : {};
  const timeoutMs = deps.timeoutMs ?? 5_000;

  /**
   * The owner's answer; waits through a handover while nobody listens on the cluster's subject (with `wait: false`,
   * a cluster nobody listens on is refused at once).
   */
  const forward = async (cluster: string, subject: string, message: unknown, wait = true): Promise<unknown> => {
    const deadline = wait ? clock.now() + deps.handoverMs : clock.now();
    for (;;) {
      try {
        return await deps.clusterBus(cluster).request(subject, message, { timeoutMs });
      } catch (error) {
        if (error instanceof BusRemoteError) throw new OwnerAnswerError(error);
        if (!(error instanceof BusUnavailableError) || clock.now() >= deadline) {
          if (error instanceof BusUnavailableError) {
            throw new NoOwnerError(`cluster '${cluster}' has no owning core right now; try again`, subject);
          }
          throw error;
        }
        await clock.sleep(100);
      }
    }
  };

  /** Every cluster's answer (or its error), in configuration order. */
  const fanOut = (subject: string, message: unknown) =>
    Promise.allSettled(clusters.map((cluster) => forward(cluster, subject, message)));

  /**
   * The owner that knows the thing (a request, an incident by id): the first answer that is neither null nor a
   * command's `not_found`; otherwise an owner's refusal, or the not-found answer.
   */
  const firstKnown = async (subject: string, message: unknown): Promise<unknown> => {
    const answers = await fanOut(subject, message);
    const unknown = (v: unknown) =>
      v === null || v === undefined || (v as { ok?: unknown; code?: unknown }).code === 'not_found';
    const found = answers.find((a) => a.status === 'fulfilled' && !unknown(a.value));
    if (found) return (found as PromiseFulfilledResult<unknown>).value;
    const refusal = answers.find((a): a is PromiseRejectedResult => a.status === 'rejected');
    if (refusal && !(refusal.reason instanceof NoOwnerError)) throw refusal.reason;
    const notFound = answers.find((a): a is PromiseFulfilledResult<unknown> => a.status === 'fulfilled');
    if (notFound) return notFound.value;
    throw refusal?.reason;
  };

  /**
   * One owner's answer: the first cluster whose owner listens now, so that a handover of one cluster (its new owner
   * still importing the record) does not hold up a token check another owner answers at once; only when no owner
   * listens does it wait through the handovers, in configuration order.
   */
  const anyOwner = async (subject: string, message: unknown): Promise<unknown> => {
    let last: unknown;
    for (const wait of [false, true]) {
      for (const cluster of clusters) {
        try {
          return await forward(cluster, subject, message, wait);
        } catch (error) {
          if (!(error instanceof NoOwnerError)) throw error;
          last = error;
        }
      }
    }
    throw last ?? new NoOwnerError('no cluster is configured', subject);
  };

  const mergedList = async (name: QueryName, subject: string, message: Envelope): Promise<unknown> => {
    const payload = message.payload ?? {};
    const offset = Number(payload.offset ?? 0);
    const limit = payload.limit === undefined ? undefined : Number(payload.limit);
    // Each owner is asked for everything up to the page's end; the page is cut from the merged list.
    const widened = { ...payload, offset: 0, ...(limit === undefined ? {} : { limit: offset + limit }) };
    const answers = await fanOut(subject, { ...message, payload: widened });
    const items: Record<string, unknown>[] = [];
    let total = 0;
    for (const a of answers) {
      if (a.status === 'rejected') throw a.reason;
      const page = a.value as { items?: Record<string, unknown>[]; total?: number };
      items.push(...(page.items ?? []));
      total += page.total ?? 0;
    }
    items.sort(LISTS[name]);
    return { items: items.slice(offset, limit === undefined ? undefined : offset + limit), total };
  };

  const merged = async (name: QueryName, subject: string, message: unknown): Promise<unknown> => {
    const answers = (await fanOut(subject, message)).map((a) => (a.status === 'fulfilled' ? a.value : undefined));
    const reached = answers.filter((a): a is Record<string, unknown> => a !== undefined && a !== null);
    const leases = deps.leases?.() ?? [];
    if (name === 'health') {
      const checks = reached.flatMap((h) => (h.checks as { name: string; ok: boolean; detail: string }[]) ?? []);
      clusters.forEach((cluster, i) => {
        if (answers[i] === undefined) checks.push({ name: `owner:${cluster}`, ok: false, detail: 'no core answers' });
      });
      for (const l of leases) {
        checks.push({
          name: `lease:${l.cluster}`,
          ok: l.owner !== undefined,
          detail: l.owner
            ? `owned by ${l.owner}${l.ownedByMe ? ' (this core)' : ''}, renewed ${Math.round(l.ageMs)} ms ago`
            : 'no owner',
        });
      }
      return { ok: checks.every((c) => c.ok), checks };
    }
    if (reached.length === 0) throw new NoOwnerError('no core owns any cluster right now', subject);
    const first = reached[0];
    if (name === 'summary') return mergeSummaries(reached);
    // status: the first owner's loops and state; every owner's clusters and incident counts; this core's leases.
    const status = { ...first } as Record<string, unknown>;
    status.clusters = reached.flatMap((s) => (s.clusters as unknown[]) ?? []);
    status.escalated = reached.flatMap((s) => (s.escalated as unknown[]) ?? []);
    status.state = reached.every((s) => s.state === first?.state) ? first?.state : 'degraded';
    const incidents = reached.map(
      (s) => s.incidents as { open: number; bySeverity: Record<string, number> } | undefined,
    );
    if (incidents.some(Boolean)) {
      status.incidents = {
        open: incidents.reduce((n, i) => n + (i?.open ?? 0), 0),
        bySeverity: sumRecords(incidents.map((i) => i?.bySeverity)),
      };
    }
    return { ...status, leases };
  };

  const query = async (message: unknown, subject: string): Promise<unknown> => {
    const parsed = parseSubject(subject);
    const name = (parsed.kind === 'query' ? parsed.what : '') as QueryName;
    const payload = (message as Envelope | undefined)?.payload ?? {};
    const cluster = typeof payload.cluster === 'string' ? payload.cluster : targetCluster(name, payload);
    if (cluster !== undefined) return forward(checkedCluster(cluster), subject, message);
    if (ANY_OWNER.has(name)) return anyOwner(subject, message);
    if (LISTS[name]) return mergedList(name, subject, message as Envelope);
    if (name === 'status' || name === 'summary' || name === 'health') return merged(name, subject, message);
    if (name === 'sync') {
      await fanOut(subject, message);
      return { started: true };
    }
    return firstKnown(subject, message);
  };

  const checkedCluster = (cluster: string): string => {
    if (!clusters.includes(cluster)) {
      // The owner would say so too; saying it here spares a wait for an owner that can never come.
      const error = new Error(`unknown cluster '${cluster}'`) as Error & { field: string };
      error.name = 'InputRefusedError';
      error.field = 'cluster';
      throw error;
    }
    return cluster;
  };

  const offs = [
    bus.reply(
      subjects.reqSubmit,
      (message, subject) => {
        const target = (message as Envelope | undefined)?.payload?.target as { cluster?: unknown } | undefined;
        if (typeof target?.cluster !== 'string') return firstKnown(subject, message);
        return forward(checkedCluster(target.cluster), subject, message);
      },
      replyOpts,
    ),
    bus.reply(subjects.reqCommandsFilter, (message, subject) => firstKnown(subject, message), replyOpts),
    bus.reply(subjects.queriesFilter, query, replyOpts),
  ];
  log.info(`router: serving ${clusters.length} cluster(s) through their owners`);
  return () => {
    for (const off of offs) off();
  };
}

/**
 * The cluster a change names in its target: a guest or node window (`<cluster>/<vmid|node>`), a silence's guest. Its
 * owner alone takes it, waiting through a handover. A tag window names none: every owner takes it for its guests.
 */
function targetCluster(name: QueryName, payload: Record<string, unknown>): string | undefined {
  const target =
    name === 'maintenanceStart' && payload.scope !== 'tag'
      ? payload.target
      : name === 'silenceAdd'
        ? payload.guest
        : undefined;
  if (typeof target !== 'string') return undefined;
  const slash = target.indexOf('/');
  return slash > 0 ? target.slice(0, slash) : undefined;
}

function sumRecords(records: (Record<string, number> | undefined)[]): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const r of records) for (const [k, n] of Object.entries(r ?? {})) sum[k] = (sum[k] ?? 0) + n;
  return sum;
}

function mergeSummaries(summaries: Record<string, unknown>[]): Record<string, unknown> {
  const pick = (key: string) => summaries.map((s) => s[key] as Record<string, number> | undefined);
  const concat = (key: string) => summaries.flatMap((s) => (s[key] as unknown[] | undefined) ?? []);
  return {
    vms: sumRecords(pick('vms')),
    hosts: sumRecords(pick('hosts')),
    requests: sumRecords(pick('requests')),
    at: Math.max(...summaries.map((s) => Number(s.at ?? 0))),
    loops: concat('loops'),
    incidents: concat('incidents'),
    clusters: concat('clusters'),
    nodes: concat('nodes'),
  };
}
