// status, vms, vm, hosts, requests, request: reads, shown as tables (or --json).
import type { HealthReply, HostView, RequestView, StatusReply, SummaryReply, VmView } from '../../protocol';
import { decisionShown, GuestTypeSchema, REQUEST_STATUSES } from '../../protocol';
import { EXIT } from '../exit-codes';
import { bytes, json, keyValues, percent, table, time } from '../format';
import { int, oneOf, str, vmTarget } from './args';
import { resolveRequestId } from './request-id';
import { renderRequest, targetText, waitForEnd } from './request-output';
import type { Command, CommandContext } from './types';

/** `vm` or `ct`, as Proxmox's own lists say. */
const typeWord = (type: VmView['type'] | undefined): string => (type === 'lxc' ? 'ct' : 'vm');

const counts = (c: Record<string, number>): string =>
  Object.entries(c)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

/** `2 open: critical 1, warning 1`, or `none open`. */
const openIncidents = ({ open, bySeverity }: NonNullable<StatusReply['incidents']>): string =>
  open === 0 ? 'none open' : `${open} open: ${counts(bySeverity)} (overseer incidents --state unresolved)`;

/** On stderr, when the page is not the whole list: `(20 of 57 requests shown; --offset 20 for more)`. */
function pageNote(ctx: CommandContext, page: { items: unknown[]; total: number }, offset = 0, what = 'items'): void {
  if (page.items.length === page.total) return;
  const next = offset + page.items.length;
  const more = next < page.total ? `; --offset ${next} for more` : '';
  ctx.err(`(${page.items.length} of ${page.total} ${what} shown${more})\n`);
}

export const statusCommand: Command = {
  name: 'status',
  usage: '',
  summary: 'Overseer state, loops, clusters and fleet counts',
  args: 0,
  async run(ctx) {
    const status = await ctx.client.get<StatusReply>('/v1/status');
    const summary = await ctx.client.get<SummaryReply>('/v1/summary');
    const health = await ctx.client.get<HealthReply>('/v1/health');
    if (ctx.json) {
      ctx.out(json({ ...status, summary, health }));
      return EXIT.ok;
    }
    ctx.out(
      keyValues([
        ['state', status.state],
        ['health', health.ok ? 'ok' : 'NOT OK'],
        ['up since', time(status.startedAt)],
        ['escalated', status.escalated.join(', ')],
        ['vms', counts(summary.vms)],
        ['hosts', counts(summary.hosts)],
        ['requests', counts(summary.requests)],
        ['incidents', status.incidents ? openIncidents(status.incidents) : undefined],
      ]),
    );
    ctx.out(
      `\n${table(
        ['cluster', 'reachable', 'quorate'],
        status.clusters.map((c) => [c.cluster, c.reachable, c.quorate]),
      )}`,
    );
    if (status.leases?.length) {
      // Several cores share the fleet: who owns each cluster, and how fresh that core's lease is.
      ctx.out(
        `\n${table(
          ['cluster', 'owner', 'lease renewed', 'valid for'],
          status.leases.map((l) => [
            l.cluster,
            l.owner ? `${l.owner}${l.ownedByMe ? ' (answering core)' : ''}` : 'none',
            `${(l.ageMs / 1000).toFixed(1)} s ago`,
            l.ownedByMe ? `${(l.validForMs / 1000).toFixed(1)} s` : '',
          ]),
        )}`,
      );
    }
    const loops = Object.entries(status.loops);
    ctx.out(
      `\n${table(
        ['loop', 'state', 'cycles', 'failures', 'last error'],
        loops.map(([name, l]) => [name, l.state, l.cycles, l.failures, l.lastError]),
      )}`,
    );
    ctx.out(
      `\n${table(
        ['check', 'ok', 'detail'],
        health.checks.map((c) => [c.name, c.ok, c.detail]),
      )}`,
    );
    return EXIT.ok;
  },
};

export const vmsCommand: Command = {
  name: 'vms',
  usage: '[--cluster c] [--node n] [--type qemu|lxc] [--state s] [--tag t] [--limit n] [--offset n]',
  summary: 'List guests: VMs and containers (TYPE vm or ct)',
  args: 0,
  options: {
    cluster: { type: 'string' },
    node: { type: 'string' },
    type: { type: 'string' },
    state: { type: 'string' },
    tag: { type: 'string' },
    limit: { type: 'string' },
    offset: { type: 'string' },
  },
  async run(ctx) {
    const page = await ctx.client.get<{ items: VmView[]; total: number }>('/v1/vms', {
      cluster: str(ctx.values, 'cluster'),
      node: str(ctx.values, 'node'),
      type: oneOf(ctx.values, 'type', GuestTypeSchema.options),
      state: str(ctx.values, 'state'),
      tag: str(ctx.values, 'tag'),
      limit: int(ctx.values, 'limit', 1),
      offset: int(ctx.values, 'offset', 0),
    });
    if (ctx.json) {
      ctx.out(json(page));
      return EXIT.ok;
    }
    ctx.out(
      table(
        ['vm', 'type', 'name', 'node', 'status', 'state', 'prod', 'tags', 'lock', 'request'],
        page.items.map((v) => [
          `${v.cluster}/${v.vmid}`,
          typeWord(v.type),
          v.name,
          v.node,
          v.status,
          v.state,
          v.production ? 'yes' : '',
          v.tags.join(','),
          v.lock,
          v.activeRequest ? `${v.activeRequest.action} ${v.activeRequest.id}` : '',
        ]),
      ),
    );
    pageNote(ctx, page, int(ctx.values, 'offset', 0), 'guests');
    return EXIT.ok;
  },
};

export const vmCommand: Command = {
  name: 'vm',
  usage: '<cluster>/<vmid>',
  summary: 'Show one guest (VM or container)',
  args: 1,
  async run(ctx) {
    const [cluster, vmid] = vmTarget(ctx.positionals[0]).split('/');
    const v = await ctx.client.get<VmView>(`/v1/vms/${cluster}/${vmid}`);
    if (ctx.json) {
      ctx.out(json(v));
      return EXIT.ok;
    }
    ctx.out(
      keyValues([
        ['vm', `${v.cluster}/${v.vmid}`],
        ['type', v.type === 'lxc' ? 'container (lxc)' : 'VM (qemu)'],
        ['name', v.name],
        ['pool', v.pool],
        ['node', v.node],
        ['status', v.status],
        ['state', v.state],
        ['production', v.production],
        ['tags', v.tags.join(', ')],
        ['lock', v.lock],
        ['template', v.template],
        ['ha managed', v.haManaged],
        ['cpus', v.cpus],
        ['cpu', percent(v.cpu, 1)],
        ['memory', `${bytes(v.mem)} of ${bytes(v.maxmem)}`],
        ['disk', bytes(v.maxdisk)],
        ['uptime', `${v.uptime} s`],
        ['request', v.activeRequest ? `${v.activeRequest.action} ${v.activeRequest.id}` : undefined],
      ]),
    );
    return EXIT.ok;
  },
};

export const hostsCommand: Command = {
  name: 'hosts',
  usage: '[--cluster c] [--limit n] [--offset n]',
  summary: 'List hosts (Proxmox nodes)',
  args: 0,
  options: { cluster: { type: 'string' }, limit: { type: 'string' }, offset: { type: 'string' } },
  async run(ctx) {
    const page = await ctx.client.get<{ items: HostView[]; total: number }>('/v1/hosts', {
      cluster: str(ctx.values, 'cluster'),
      limit: int(ctx.values, 'limit', 1),
      offset: int(ctx.values, 'offset', 0),
    });
    const { items } = page;
    if (ctx.json) {
      ctx.out(json(page));
      return EXIT.ok;
    }
    ctx.out(
      table(
        ['host', 'status', 'state', 'cpu', 'memory', 'disk'],
        items.map((h) => [
          `${h.cluster}/${h.node}`,
          h.status,
          h.state,
          percent(h.cpu, 1),
          `${percent(h.mem, h.maxmem)} of ${bytes(h.maxmem)}`,
          `${percent(h.disk, h.maxdisk)} of ${bytes(h.maxdisk)}`,
        ]),
      ),
    );
    pageNote(ctx, page, int(ctx.values, 'offset', 0), 'hosts');
    return EXIT.ok;
  },
};

export const requestsCommand: Command = {
  name: 'requests',
  usage: '[--status s] [--requester who] [--limit n] [--offset n]',
  summary: 'List requests, newest first',
  args: 0,
  options: {
    status: { type: 'string' },
    requester: { type: 'string' },
    limit: { type: 'string' },
    offset: { type: 'string' },
  },
  async run(ctx) {
    const page = await ctx.client.get<{ items: RequestView[]; total: number }>('/v1/requests', {
      status: oneOf(ctx.values, 'status', REQUEST_STATUSES),
      requester: str(ctx.values, 'requester'),
      limit: int(ctx.values, 'limit', 1),
      offset: int(ctx.values, 'offset', 0),
    });
    const { items } = page;
    if (ctx.json) {
      ctx.out(json(page));
      return EXIT.ok;
    }
    ctx.out(
      table(
        ['id', 'action', 'target', 'status', 'decision', 'requester', 'submitted'],
        items.map((r) => [
          r.id,
          r.action,
          targetText(r.target),
          r.status,
          decisionShown(r),
          r.requester.name ?? r.requester.id,
          time(r.submittedAt),
        ]),
      ),
    );
    pageNote(ctx, page, int(ctx.values, 'offset', 0), 'requests');
    return EXIT.ok;
  },
};

export const requestCommand: Command = {
  name: 'request',
  usage: '<id> [--wait]',
  summary: 'Show one request: decision, checks, history, tasks (--wait: follow it to its end)',
  args: 1,
  options: { wait: { type: 'boolean' }, interval: { type: 'string' }, timeout: { type: 'string' } },
  async run(ctx) {
    const requestId = await resolveRequestId(ctx, ctx.positionals[0]);
    if (ctx.values.wait) return waitForEnd(ctx, requestId);
    const r = await ctx.client.get<RequestView>(`/v1/requests/${requestId}`);
    ctx.out(ctx.json ? json(r) : renderRequest(r));
    return EXIT.ok;
  },
};
