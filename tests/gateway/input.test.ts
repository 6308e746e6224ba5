// Bad input is a 4xx naming the field; no shape of request causes a 5xx.
import { describe, expect, it } from 'vitest';
import { errorOf, setupGateway } from './setup';

const gw = setupGateway({ maxBodyBytes: 4096 });
const op = gw.core.tokens.operator;
const submit = (body: unknown, headers: Record<string, string> = {}) =>
  gw.call('POST', '/v1/requests', { token: op, body, headers });
/** The error of a GET that must be refused with 400. */
async function refusedQuery(path: string) {
  const res = await gw.call('GET', path, { token: op });
  expect(res.status, path).toBe(400);
  return errorOf(res);
}

describe('gateway input', () => {
  it('input - bad JSON is 400 naming the body', async () => {
    const res = await submit('{"action": "start",');
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: 'invalid_input', field: 'body', in: 'body' });
  });

  it('input - an empty body is 400 on a route that needs one', async () => {
    const res = await submit('');
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toMatch(/empty body/);
  });

  it('input - a body that is not an object is 400 naming the body and what it is', async () => {
    for (const [body, got] of [
      ['[]', 'array'],
      ['5', 'number'],
      ['null', 'null'],
      ['"start"', 'string'],
    ]) {
      const res = await submit(body);
      expect(res.status, body).toBe(400);
      expect(await errorOf(res), body).toMatchObject({
        field: 'body',
        message: `body: expected object, received ${got}`,
        issues: [{ field: 'body', message: `expected object, received ${got}` }],
      });
    }
  });

  it('input - a requester field is an unknown field (the requester is the token owner)', async () => {
    const res = await submit({ action: 'start', target: 'lab/101', requester: { id: 'root', role: 'admin' } });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ field: 'requester', message: 'requester: unknown field' });
    expect(gw.core.submissions).toHaveLength(0);
  });

  it('input - unknown fields, also inside params, are named', async () => {
    const res = await submit({ action: 'snapshot', target: 'lab/101', params: { snapname: 'a1', when: 'now' } });
    expect(await errorOf(res)).toMatchObject({ field: 'params.when' });
    const res2 = await submit({ action: 'start', target: 'lab/101', params: { node: 'pve2' } });
    expect(await errorOf(res2)).toMatchObject({ field: 'params.node' });
  });

  it('input - wrong types are 400 naming the field', async () => {
    const cases: [unknown, string][] = [
      [{ action: 'start', target: 'lab/101', force: 'yes' }, 'force'],
      [{ action: 'start', target: 101 }, 'target'],
      [{ action: 7, target: 'lab/101' }, 'action'],
      [{ action: 'explode', target: 'lab/101' }, 'action'],
      [{ action: 'deploy', target: 'lab', params: { template: '9000', node: 'pve1', name: 'x' } }, 'params.template'],
      [
        { action: 'deploy', target: 'lab', params: { template: 9000, node: 'pve1', name: 'x', count: 1.5 } },
        'params.count',
      ],
      [{ action: 'deploy', target: 'lab' }, 'params'],
      [{ action: 'snapshot', target: 'lab/101', params: { snapname: 5 } }, 'params.snapname'],
    ];
    for (const [body, field] of cases) {
      const res = await submit(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect((await errorOf(res)).field, JSON.stringify(body)).toBe(field);
    }
  });

  it('input - a target object with a mistyped field is 400 naming that field by its path, once', async () => {
    const deploy = { template: 9000, node: 'pve1', name: 'x' };
    const cases: [unknown, string, string][] = [
      [{ action: 'stop', target: { cluster: 'lab', vmid: 'x' } }, 'target.vmid', 'expected a vmid (a whole number)'],
      [{ action: 'stop', target: { cluster: 'lab', vmid: 1.5 } }, 'target.vmid', 'expected a vmid (a whole number)'],
      [{ action: 'stop', target: { cluster: 'lab', vmid: 1e20 } }, 'target.vmid', 'expected a vmid (a whole number)'],
      [{ action: 'stop', target: { cluster: 5, vmid: 101 } }, 'target.cluster', 'expected a cluster name'],
      [{ action: 'deploy', target: { cluster: 7 }, params: deploy }, 'target.cluster', 'expected a cluster name'],
      [{ action: 'stop' }, 'target', 'required'],
    ];
    for (const [body, field, message] of cases) {
      const res = await submit(body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(await errorOf(res), JSON.stringify(body)).toMatchObject({
        field,
        message: `${field}: ${message}`,
        issues: [{ field, message }],
      });
    }
  });

  it('input - a bound crossed is said in words, not in zod’s', async () => {
    const deploy = (params: Record<string, unknown>) =>
      submit({ action: 'deploy', target: 'lab', params: { template: 9000, node: 'pve1', name: 'x', ...params } });
    const cases: [Record<string, unknown>, string][] = [
      [{ name: '' }, 'params.name: must not be empty'],
      [{ name: 'x'.repeat(65) }, 'params.name: must be at most 64 characters long'],
      [{ count: 0 }, 'params.count: must be at least 1'],
      [{ count: 10_001 }, 'params.count: must be at most 10000'],
    ];
    for (const [params, message] of cases) {
      expect((await errorOf(await deploy(params))).message, JSON.stringify(params)).toBe(message);
    }
  });

  it('input - an unknown field with an empty name is named by where it is', async () => {
    const res = await submit('{"action": "start", "target": "lab/101", "": 1}');
    expect(await errorOf(res)).toMatchObject({
      field: 'body',
      message: 'body: an unknown field with an empty name',
      issues: [{ field: 'body', message: 'an unknown field with an empty name' }],
    });
  });

  it('input - a value that is not one of the allowed ones lists them', async () => {
    const res = await gw.call('GET', '/v1/incidents?state=x', { token: op });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).message).toBe(
      'state: must be one of open, remediating, escalated, resolved, unresolved',
    );
  });

  it('input - bad target strings are 400', async () => {
    for (const target of [
      'lab',
      'lab/',
      '/101',
      'lab/abc',
      'lab/101/2',
      'lab.x/101',
      'la b/101',
      'lab/-1',
      'lab/1234567890',
      '',
    ]) {
      const res = await submit({ action: 'stop', target });
      expect(res.status, target).toBe(400);
      expect((await errorOf(res)).field).toBe('target');
    }
    const deploy = await submit({
      action: 'deploy',
      target: 'lab/101',
      params: { template: 9000, node: 'pve1', name: 'x' },
    });
    expect((await errorOf(deploy)).field).toBe('target');
  });

  it('input - a huge body is 413', async () => {
    const res = await submit({ action: 'start', target: 'lab/101', params: { pad: 'x'.repeat(10_000) } });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).code).toBe('payload_too_large');
  });

  it('input - a huge body without Content-Length (streamed) is 413', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(1024));
    let n = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (n++ < 10) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const res = await gw.app.request('/v1/requests', {
      method: 'POST',
      body,
      headers: { authorization: `Bearer ${op}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      duplex: 'half',
    } as RequestInit);
    expect(res.status).toBe(413);
  });

  it('input - the body is read as JSON whatever its Content-Type (curl -d sends form-urlencoded)', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    expect((await submit('action=start', form)).status).toBe(400);
    expect((await submit('{"action": "start", "target": "lab/101"}', form)).status).toBe(201);
  });

  it('input - a bad Idempotency-Key is 400 naming the header', async () => {
    const res = await submit({ action: 'start', target: 'lab/101' }, { 'Idempotency-Key': 'x'.repeat(200) });
    expect(await errorOf(res)).toMatchObject({ field: 'Idempotency-Key', in: 'header' });
  });

  it('input - unknown ids are 404, malformed ids 400', async () => {
    expect((await gw.call('GET', '/v1/requests/nope', { token: op })).status).toBe(404);
    expect((await gw.call('POST', '/v1/requests/nope/approve', { token: op })).status).toBe(404);
    expect((await gw.call('GET', '/v1/vms/lab/999', { token: op })).status).toBe(404);
    expect((await gw.call('DELETE', '/v1/tokens/tok99', { token: gw.core.tokens.admin })).status).toBe(404);
    for (const path of ['/v1/requests/a.b', '/v1/requests/a*', '/v1/requests/%3E', `/v1/requests/${'a'.repeat(200)}`]) {
      const res = await gw.call('GET', path, { token: op });
      expect(res.status, path).toBe(400);
      expect((await errorOf(res)).field).toBe('id');
    }
    const vm = await gw.call('GET', '/v1/vms/lab/abc', { token: op });
    expect(await errorOf(vm)).toMatchObject({ field: 'vmid', in: 'path' });
    expect((await gw.call('GET', '/v1/vms/la%20b/101', { token: op })).status).toBe(400);
  });

  it('input - query strings are checked: unknown, repeated and mistyped parameters are 400', async () => {
    const cases: [string, string][] = [
      ['/v1/vms?colour=red', 'colour'],
      ['/v1/vms?limit=abc', 'limit'],
      ['/v1/vms?limit=0', 'limit'],
      ['/v1/vms?node=a&node=b', 'node'],
      ['/v1/requests?status=sleeping', 'status'],
      ['/v1/status?verbose=1', 'verbose'],
      ['/v1/hosts?cluster=a.b', 'cluster'],
    ];
    for (const [path, field] of cases) expect((await refusedQuery(path)).field, path).toBe(field);
  });

  it('input - a page number out of its range or not a whole number is 400 saying the range', async () => {
    const cases: [string, string][] = [
      ['/v1/vms?limit=abc', 'limit: expected a whole number from 1 to 1000'],
      ['/v1/vms?limit=1.5', 'limit: expected a whole number from 1 to 1000'],
      ['/v1/requests?limit=99999999999999999999', 'limit: expected a whole number from 1 to 1000'],
      ['/v1/vms?offset=-1', 'offset: expected a whole number from 0 to 10000000'],
    ];
    for (const [path, message] of cases) {
      const error = await refusedQuery(path);
      expect(error.message, path).toBe(message);
      expect(error.issues, path).toHaveLength(1);
    }
  });

  it('input - a field left out is named as required', async () => {
    const res = await gw.call('POST', '/v1/labs', { token: op, body: { fileName: 'demo.yaml' } });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ field: 'file', message: 'file: required' });
    const typed = await gw.call('POST', '/v1/labs', { token: op, body: { file: 5 } });
    expect((await errorOf(typed)).message).toMatch(/^file: .*expected string, received number/);
  });

  it('input - command bodies are optional but checked', async () => {
    const res = await gw.call('POST', '/v1/requests/r1/deny', { token: op, body: { reason: 5 } });
    expect(await errorOf(res)).toMatchObject({ field: 'reason' });
    const extra = await gw.call('POST', '/v1/sync', { token: op, body: { now: true } });
    expect(await errorOf(extra)).toMatchObject({ field: 'now' });
  });

  it('input - a wrong method is 405 with Allow, an unknown path 404', async () => {
    const res = await gw.call('PUT', '/v1/vms', { token: op });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('GET, HEAD');
    expect((await gw.call('GET', '/v2/vms', { token: op })).status).toBe(404);
    expect((await errorOf(await gw.call('GET', '/nothing'))).code).toBe('not_found');
  });

  it('input - no request shape causes a 5xx', async () => {
    const bodies = [
      '{"a":'.repeat(5000),
      '['.repeat(3000),
      `${'['.repeat(3000)}${']'.repeat(3000)}`,
      JSON.stringify({
        action: 'start',
        target: 'lab/101',
        params: { deep: JSON.parse(`${'['.repeat(2000)}${']'.repeat(2000)}`) },
      }),
      '{"__proto__": {"admin": true}, "action": "start", "target": "lab/101"}',
      '{"action": "start", "target": "lab/101", "constructor": 1}',
      '\u0000\u0001',
      '{"action":"deploy","target":"lab","params":{"template":1e309,"node":"n","name":"x"}}',
      JSON.stringify({ action: 'start', target: 'lab/101', params: null }),
      JSON.stringify({ action: 'start', target: 'lab/101\n' }),
    ];
    for (const body of bodies) {
      const res = await submit(body);
      expect(res.status, body.slice(0, 40)).toBeGreaterThanOrEqual(400);
      expect(res.status, body.slice(0, 40)).toBeLessThan(500);
    }
    const paths = [
      '/v1/vms/%E0%A4%A/1',
      '/v1/requests/%00',
      '/v1/vms?limit=1e999',
      '/v1/events?filter=%00',
      '/v1//vms',
    ];
    for (const path of paths) {
      const res = await gw.call('GET', path, { token: op });
      expect(res.status, path).toBeLessThan(500);
    }
    expect(gw.logged).toEqual([]);
  });
});
