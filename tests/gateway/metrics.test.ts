// GET /metrics in the Prometheus text format. The fleet counts are the summary the core last published on
// overseer.evt.loop.health.summary: a scrape never asks the core anything.
import { describe, expect, it, vi } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { GatewayMetrics } from '../../gateway/metrics';
import { SUMMARY_SUBJECT } from '../../gateway/summary-feed';
import { subjects } from '../../protocol';
import { setupGateway } from './setup';

/** Lets the bus deliver (it does so on microtasks). */
const tick = () => new Promise((r) => setTimeout(r, 5));

const SUMMARY = {
  vms: { running: 2, stopped: 1 },
  hosts: { online: 2 },
  requests: { completed: 4, 'awaiting-approval': 1 },
};

/** Every non-comment line must be `name{labels} value`. */
const SAMPLE_LINE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$/;

describe('gateway metrics', () => {
  it('metrics - text format with requests by route, latency histogram, NATS gauge and fleet counts', async () => {
    const gw = setupGateway({ clock: new SimulatedClock(0) });
    gw.bus.publish(SUMMARY_SUBJECT, SUMMARY);
    await tick();
    const token = gw.core.tokens.observer;
    await gw.call('GET', '/v1/vms/lab/101', { token });
    await gw.call('GET', '/v1/vms/lab/999', { token });
    await gw.call('GET', '/v1/status');
    const res = await gw.call('GET', '/metrics');
    expect(res.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    expect(text.endsWith('\n')).toBe(true);
    for (const line of text.trimEnd().split('\n')) {
      if (line.startsWith('#')) expect(line).toMatch(/^# (HELP|TYPE) \w+ .+/);
      else expect(line).toMatch(SAMPLE_LINE);
    }
    expect(text).toContain('overseer_http_requests_total{route="/v1/vms/:cluster/:vmid",method="GET",status="200"} 1');
    expect(text).toContain('overseer_http_requests_total{route="/v1/vms/:cluster/:vmid",method="GET",status="404"} 1');
    expect(text).toContain('overseer_http_requests_total{route="/v1/status",method="GET",status="401"} 1');
    expect(text).toContain('# TYPE overseer_http_request_duration_seconds histogram');
    expect(text).toContain(
      'overseer_http_request_duration_seconds_bucket{route="/v1/vms/:cluster/:vmid",method="GET",le="+Inf"} 2',
    );
    expect(text).toContain(
      'overseer_http_request_duration_seconds_count{route="/v1/vms/:cluster/:vmid",method="GET"} 2',
    );
    expect(text).toContain('overseer_nats_connected 1');
    expect(text).toContain('overseer_core_up 1');
    expect(text).toContain('overseer_vms{state="running"} 2');
    expect(text).toContain('overseer_vms{state="stopped"} 1');
    expect(text).toContain('overseer_hosts{state="online"} 2');
    expect(text).toContain('overseer_requests{status="awaiting-approval"} 1');
    expect(text).toContain('overseer_summary_age_seconds 0');
  });

  it('metrics - scrapes make no core call and show the last summary published, with its age', async () => {
    const clock = new SimulatedClock(5_000_000);
    const gw = setupGateway({ clock });
    expect(SUMMARY_SUBJECT).toBe(subjects.evtLoop('health', 'summary'));
    const requests = vi.spyOn(gw.bus, 'request');

    // Before the first summary: no fleet counts, and the core does not count as up.
    let text = await (await gw.call('GET', '/metrics')).text();
    expect(text).toContain('overseer_core_up 0');
    expect(text).not.toContain('overseer_vms');
    expect(text).not.toContain('overseer_summary_age_seconds');

    gw.bus.publish(SUMMARY_SUBJECT, { vms: { running: 9 }, hosts: {}, requests: {} });
    gw.bus.publish(SUMMARY_SUBJECT, SUMMARY);
    await tick();
    clock.advance(12_500);
    for (let i = 0; i < 25; i++) {
      const res = await gw.call('GET', '/metrics');
      expect(res.status).toBe(200);
      text = await res.text();
    }
    expect(requests).not.toHaveBeenCalled();
    expect(text).toContain('overseer_core_up 1');
    expect(text).toContain('overseer_vms{state="running"} 2');
    expect(text).not.toContain('overseer_vms{state="running"} 9');
    expect(text).toContain('overseer_summary_age_seconds 12.5');
  });

  it('metrics - an invalid summary is ignored and the last valid one kept', async () => {
    const clock = new SimulatedClock(0);
    const gw = setupGateway({ clock });
    gw.bus.publish(SUMMARY_SUBJECT, SUMMARY);
    await tick();
    clock.advance(1000);
    gw.bus.publish(SUMMARY_SUBJECT, { vms: 'many' });
    gw.bus.publish(SUMMARY_SUBJECT, null);
    await tick();
    const text = await (await gw.call('GET', '/metrics')).text();
    expect(text).toContain('overseer_vms{state="running"} 2');
    expect(text).toContain('overseer_summary_age_seconds 1');
    expect(gw.logged.filter((m) => m.includes('ignored a summary'))).toHaveLength(1);
  });

  it('metrics - a stale summary is still shown, with its age, but the core no longer counts as up', async () => {
    const clock = new SimulatedClock(0);
    const gw = setupGateway({ clock, summaryStaleAfterMs: 60_000 });
    gw.bus.publish(SUMMARY_SUBJECT, SUMMARY);
    await tick();
    clock.advance(60_000);
    expect(await (await gw.call('GET', '/metrics')).text()).toContain('overseer_core_up 1');
    clock.advance(1);
    const text = await (await gw.call('GET', '/metrics')).text();
    expect(text).toContain('overseer_core_up 0');
    expect(text).toContain('overseer_summary_age_seconds 60.001');
    expect(text).toContain('overseer_vms{state="running"} 2');
  });

  it('metrics - loop heartbeats, open incidents by kind and severity, cluster quorum and node states', async () => {
    const clock = new SimulatedClock(1_700_000_010_000);
    const gw = setupGateway({ clock });
    gw.bus.publish(SUMMARY_SUBJECT, {
      ...SUMMARY,
      at: 1_700_000_010_000,
      loops: [
        { loop: 'sync', lastBeatAt: 1_700_000_005_000, ok: true },
        { loop: 'monitor', lastBeatAt: 1_699_999_000_000, ok: false },
        { loop: 'health', lastBeatAt: null, ok: true },
      ],
      incidents: [
        { kind: 'vm-unexpected-stop', severity: 'critical', count: 2 },
        { kind: 'host-overload', severity: 'warning', count: 1 },
      ],
      clusters: [{ cluster: 'lab', reachable: true, quorate: false }],
      nodes: [
        { cluster: 'lab', node: 'pve1', state: 'online' },
        { cluster: 'lab', node: 'pve2', state: 'offline' },
      ],
    });
    await tick();
    clock.advance(2_000);
    const text = await (await gw.call('GET', '/metrics')).text();
    for (const line of text.trimEnd().split('\n')) if (!line.startsWith('#')) expect(line).toMatch(SAMPLE_LINE);
    expect(text).toContain('# TYPE overseer_loop_heartbeat_timestamp_seconds gauge');
    expect(text).toContain('overseer_loop_heartbeat_timestamp_seconds{loop="sync"} 1700000005');
    // Its age when the core published it (5 s) plus the summary's own age (2 s).
    expect(text).toContain('overseer_loop_heartbeat_age_seconds{loop="sync"} 7');
    expect(text).toContain('overseer_loop_heartbeat_age_seconds{loop="monitor"} 1012');
    expect(text).not.toContain('overseer_loop_heartbeat_age_seconds{loop="health"}');
    expect(text).toContain('overseer_loop_healthy{loop="sync"} 1');
    expect(text).toContain('overseer_loop_healthy{loop="monitor"} 0');
    expect(text).toContain('overseer_incidents_open{kind="vm-unexpected-stop",severity="critical"} 2');
    expect(text).toContain('overseer_incidents_open{kind="host-overload",severity="warning"} 1');
    expect(text).toContain('overseer_cluster_reachable{cluster="lab"} 1');
    expect(text).toContain('overseer_cluster_quorate{cluster="lab"} 0');
    expect(text).toContain('overseer_node_state{cluster="lab",node="pve1",state="online"} 1');
    expect(text).toContain('overseer_node_state{cluster="lab",node="pve2",state="offline"} 1');
  });

  it('metrics - a summary without the health fields (an older core) still gives the fleet counts', async () => {
    const gw = setupGateway();
    gw.bus.publish(SUMMARY_SUBJECT, SUMMARY);
    await tick();
    const text = await (await gw.call('GET', '/metrics')).text();
    expect(text).toContain('overseer_vms{state="running"} 2');
    for (const name of ['overseer_loop_', 'overseer_incidents_open', 'overseer_cluster_', 'overseer_node_state']) {
      expect(text).not.toContain(name);
    }
  });

  it('metrics - close() stops listening for summaries', async () => {
    const gw = setupGateway();
    gw.close();
    gw.bus.publish(SUMMARY_SUBJECT, SUMMARY);
    await tick();
    expect(await (await gw.call('GET', '/metrics')).text()).not.toContain('overseer_vms');
  });

  it('metrics - unmatched paths share one label (no unbounded cardinality)', async () => {
    const gw = setupGateway();
    await gw.call('GET', '/a');
    await gw.call('GET', '/b');
    const text = await (await gw.call('GET', '/metrics')).text();
    expect(text).toContain('overseer_http_requests_total{route="unmatched",method="GET",status="404"} 2');
  });

  it('metrics - histogram buckets are cumulative and label values escaped', () => {
    const m = new GatewayMetrics();
    m.observe('/x"y', 'GET', 200, 0.003);
    m.observe('/x"y', 'GET', 200, 0.2);
    const text = m.render({ natsConnected: true, sseClients: 0, summary: undefined });
    expect(text).toContain('overseer_http_request_duration_seconds_bucket{route="/x\\"y",method="GET",le="0.001"} 0');
    expect(text).toContain('overseer_http_request_duration_seconds_bucket{route="/x\\"y",method="GET",le="0.005"} 1');
    expect(text).toContain('overseer_http_request_duration_seconds_bucket{route="/x\\"y",method="GET",le="0.25"} 2');
    expect(text).not.toContain('overseer_vms');
  });
});
