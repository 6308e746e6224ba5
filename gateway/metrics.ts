// Prometheus text exposition (format 0.0.4): HTTP requests by route, method and status, a latency histogram,
// the NATS connection, SSE clients, and the fleet counts of the last summary the core published (never a query:
// a scrape costs the core nothing).
import type { SummaryReply } from '../protocol';

export const METRICS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** Latency buckets, in seconds. */
export const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

const labels = (pairs: Record<string, string>): string =>
  `{${Object.entries(pairs)
    .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
    .join(',')}}`;

const num = (value: number): string => (Number.isFinite(value) ? String(value) : value > 0 ? '+Inf' : '-Inf');

export interface MetricsSnapshot {
  natsConnected: boolean;
  sseClients: number;
  /** The last summary the core published; undefined before the first. */
  summary: SummaryReply | undefined;
  /** Seconds since that summary was received. */
  summaryAgeSeconds?: number | undefined;
  /** Whether the core counts as up (connected, and its last summary recent enough). Default: a summary is known. */
  coreUp?: boolean;
}

export class GatewayMetrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  private rateLimited = 0;
  private authFailuresLimited = 0;
  private streamsRefused = 0;

  observe(route: string, method: string, status: number, seconds: number): void {
    const key = JSON.stringify([route, method, String(status)]);
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const hkey = JSON.stringify([route, method]);
    let h = this.latency.get(hkey);
    if (!h) {
      h = { counts: LATENCY_BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.latency.set(hkey, h);
    }
    LATENCY_BUCKETS.forEach((le, i) => {
      if (seconds <= le) h.counts[i]! += 1;
    });
    h.sum += seconds;
    h.count += 1;
  }

  countRateLimited(): void {
    this.rateLimited += 1;
  }

  countAuthFailuresLimited(): void {
    this.authFailuresLimited += 1;
  }

  countStreamsRefused(): void {
    this.streamsRefused += 1;
  }

  render(snapshot: MetricsSnapshot): string {
    const out: string[] = [];
    const head = (name: string, type: string, help: string) =>
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);

    head('overseer_http_requests_total', 'counter', 'HTTP requests answered, by route, method and status.');
    for (const [key, value] of this.requests) {
      const [route, method, status] = JSON.parse(key) as [string, string, string];
      out.push(`overseer_http_requests_total${labels({ route, method, status })} ${value}`);
    }

    head('overseer_http_request_duration_seconds', 'histogram', 'Time to answer an HTTP request, in seconds.');
    for (const [key, h] of this.latency) {
      const [route, method] = JSON.parse(key) as [string, string];
      LATENCY_BUCKETS.forEach((le, i) => {
        out.push(
          `overseer_http_request_duration_seconds_bucket${labels({ route, method, le: String(le) })} ${h.counts[i]}`,
        );
      });
      out.push(`overseer_http_request_duration_seconds_bucket${labels({ route, method, le: '+Inf' })} ${h.count}`);
      out.push(`overseer_http_request_duration_seconds_sum${labels({ route, method })} ${num(h.sum)}`);
      out.push(`overseer_http_request_duration_seconds_count${labels({ route, method })} ${h.count}`);
    }

    head('overseer_http_rate_limited_total', 'counter', 'Requests refused by the per-token rate limit.');
    out.push(`overseer_http_rate_limited_total ${this.rateLimited}`);
    head(
      'overseer_http_auth_failures_limited_total',
      'counter',
      'Requests refused because their address failed authentication too often.',
    );
    out.push(`overseer_http_auth_failures_limited_total ${this.authFailuresLimited}`);
    head('overseer_sse_streams_refused_total', 'counter', 'Event streams refused: the token held the most allowed.');
    out.push(`overseer_sse_streams_refused_total ${this.streamsRefused}`);
    head('overseer_nats_connected', 'gauge', '1 when the gateway is connected to NATS.');
    out.push(`overseer_nats_connected ${snapshot.natsConnected ? 1 : 0}`);
    head('overseer_sse_clients', 'gauge', 'Server-Sent Events clients connected.');
    out.push(`overseer_sse_clients ${snapshot.sseClients}`);
    head('overseer_core_up', 'gauge', '1 when NATS is connected and the core published its summary recently.');
    out.push(`overseer_core_up ${(snapshot.coreUp ?? snapshot.summary !== undefined) ? 1 : 0}`);
    if (snapshot.summary && snapshot.summaryAgeSeconds !== undefined) {
      head('overseer_summary_age_seconds', 'gauge', 'Seconds since the core last published its summary.');
      out.push(`overseer_summary_age_seconds ${num(snapshot.summaryAgeSeconds)}`);
    }

    const fleet: [string, string, string, Record<string, number> | undefined][] = [
      ['overseer_vms', 'state', 'VMs known to the core, by state.', snapshot.summary?.vms],
      ['overseer_hosts', 'state', 'Hosts known to the core, by state.', snapshot.summary?.hosts],
      ['overseer_requests', 'status', 'Requests known to the core, by status.', snapshot.summary?.requests],
    ];
    for (const [name, label, help, counts] of fleet) {
      if (!counts) continue;
      head(name, 'gauge', help);
      for (const [value, count] of Object.entries(counts))
        out.push(`${name}${labels({ [label]: value })} ${num(count)}`);
    }
    if (snapshot.summary) renderCoreHealth(snapshot.summary, snapshot.summaryAgeSeconds, head, out);
    return `${out.join('\n')}\n`;
  }
}

/**
 * The core's own health as its last summary has it (each part only when the core published it): loop heartbeats,
 * open incidents by kind and severity, cluster reachability and quorum, node states.
 */
function renderCoreHealth(
  summary: SummaryReply,
  ageSeconds: number | undefined,
  head: (name: string, type: string, help: string) => void,
  out: string[],
): void {
  if (summary.loops) {
    head(
      'overseer_loop_heartbeat_timestamp_seconds',
      'gauge',
      'When each periodic loop last finished a cycle (Unix time, core clock).',
    );
    for (const l of summary.loops) {
      if (l.lastBeatAt !== null)
        out.push(`overseer_loop_heartbeat_timestamp_seconds${labels({ loop: l.loop })} ${num(l.lastBeatAt / 1000)}`);
    }
    if (summary.at !== undefined) {
      head(
        'overseer_loop_heartbeat_age_seconds',
        'gauge',
        "Seconds since each periodic loop last finished a cycle, as of the core's last summary plus its age (at most).",
      );
      for (const l of summary.loops) {
        if (l.lastBeatAt === null) continue;
        const age = Math.max(0, summary.at - l.lastBeatAt) / 1000 + (ageSeconds ?? 0);
        out.push(`overseer_loop_heartbeat_age_seconds${labels({ loop: l.loop })} ${num(age)}`);
      }
    }
    head('overseer_loop_healthy', 'gauge', '1 when the loop beats in time and the root has not given up on it.');
    for (const l of summary.loops) out.push(`overseer_loop_healthy${labels({ loop: l.loop })} ${l.ok ? 1 : 0}`);
  }
  if (summary.incidents) {
    head('overseer_incidents_open', 'gauge', 'Incidents not yet resolved, by kind and severity.');
    for (const i of summary.incidents) {
      out.push(`overseer_incidents_open${labels({ kind: i.kind, severity: i.severity })} ${num(i.count)}`);
    }
  }
  if (summary.clusters) {
    head('overseer_cluster_reachable', 'gauge', '1 when the last inventory read of the cluster succeeded.');
    for (const c of summary.clusters)
      out.push(`overseer_cluster_reachable${labels({ cluster: c.cluster })} ${c.reachable ? 1 : 0}`);
    head('overseer_cluster_quorate', 'gauge', '1 when the cluster has quorum.');
    for (const c of summary.clusters)
      out.push(`overseer_cluster_quorate${labels({ cluster: c.cluster })} ${c.quorate ? 1 : 0}`);
  }
  if (summary.nodes) {
    head('overseer_node_state', 'gauge', "Each node's state as its host actor has it (1 for the current state).");
    for (const n of summary.nodes) {
      out.push(`overseer_node_state${labels({ cluster: n.cluster, node: n.node, state: n.state })} 1`);
    }
  }
}
