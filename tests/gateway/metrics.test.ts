// GET /metrics in the Prometheus text format.
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { GatewayMetrics } from '../../gateway/metrics';
import { setupGateway } from './setup';

/** Every non-comment line must be `name{labels} value`. */
const SAMPLE_LINE =
  /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="(\\.|[^"\\])*",?)*\})? (-?[0-9.e+-]+|\+Inf|-Inf|NaN)$/;

describe('gateway metrics', () => {
  it('metrics - text format with requests by route, latency histogram, NATS gauge and fleet counts', async () => {
    const gw = setupGateway({ clock: new SimulatedClock(0) });
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
