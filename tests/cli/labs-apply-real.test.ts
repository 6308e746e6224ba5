// The example lab (examples/labs/three-tier.yaml) through its whole life from the command line, against the real
// gateway, bus and core on the PVE simulator (tests/cli/real-core.ts, the demo cluster 'lab'): applied by an
// operator and followed with --wait until ready, shown by `lab status` and `lab list`, found on the simulator (its
// pool, its zone and VNets, its five VMs), its status events relayed by GET /v1/events; refused to an observer, its
// destroy refused to an operator, a request claiming it as its parent refused; snapshotted, then destroyed by an
// admin with nothing of it left. The tests run in order on one lab. Waiting commands run with simulated time passing
// in their pauses (--interval 10: ten simulated seconds a poll); --timeout bounds each in real time.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/main';
import type { LabView } from '../../protocol';
import type { SimCoreToken } from '../helpers/sim-core';
import type { RealCoreHarness } from './real-core';
import { startRealCoreHarness } from './real-core';

const EXAMPLE = join(import.meta.dirname, '../../examples/labs/three-tier.yaml');
const MEMBERS = ['router', 'db', 'web-1', 'web-2', 'web-3'];
/** --wait: ten simulated seconds between polls, at most 90 real seconds. */
const WAIT = ['--wait', '--interval', '10', '--timeout', '90'];
const LINES = { timePasses: true, env: { OVERSEER_PROGRESS: 'lines' } };

let h: RealCoreHarness;
let olga: SimCoreToken;
let ada: SimCoreToken;
let obi: SimCoreToken;
const events: { subject: string; payload: Record<string, unknown> }[] = [];
const stopEvents = new AbortController();

/** Follows GET /v1/events?filter=overseer.evt.lab.> as obi, keeping every event; resolves once the stream is ready. */
async function followLabEvents(): Promise<void> {
  const res = await fetch(`${h.gateway.url}/v1/events?filter=${encodeURIComponent('overseer.evt.lab.>')}`, {
    headers: { authorization: `Bearer ${obi.token}`, accept: 'text/event-stream' },
    signal: stopEvents.signal,
  });
  if (res.status !== 200 || !res.body) throw new Error(`GET /v1/events answered ${res.status}`);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let markReady!: () => void;
  const ready = new Promise<void>((resolve) => {
    markReady = resolve;
  });
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end).split('\n');
        buffer = buffer.slice(end + 2);
        if (block.includes('event: ready')) markReady();
        const data = block.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
        if (data.length > 0 && !block.some((l) => l.startsWith('event: '))) events.push(JSON.parse(data.join('')));
      }
    }
  })();
  await ready;
}

/** The lab's status events seen so far, in order (`cloning`, `ready`, ...). */
const labStatuses = (): string[] =>
  events.filter((e) => e.subject.startsWith('overseer.evt.lab.three-tier.')).map((e) => e.subject.split('.').at(-1)!);

/** Waits (real time, bounded) until the lab's events include `status`; the events relay runs on its own. */
async function eventSeen(status: string, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!labStatuses().includes(status)) {
    if (Date.now() > until) throw new Error(`no event ...lab.three-tier.${status}; seen: ${labStatuses().join(', ')}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const labNow = async (): Promise<LabView> => {
  const res = await h.cli(['lab', 'status', 'three-tier', '--json'], obi);
  expect(res.code, res.stderr).toBe(EXIT.ok);
  return JSON.parse(res.stdout) as LabView;
};

/** The simulator's guests named for the lab (`three-tier-<member>`). */
const simLabVms = () => [...h.core.stack.sim.state.vms.values()].filter((v) => v.name.startsWith('three-tier-'));

/** HTTP to the gateway as `token`; the answer's status and JSON body. */
async function api(method: string, path: string, token: SimCoreToken, body?: unknown) {
  const res = await fetch(`${h.gateway.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token.token}`, 'content-type': 'application/json' },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  h = await startRealCoreHarness({ events: true });
  olga = h.core.token('olga', 'operator');
  ada = h.core.token('ada', 'admin');
  obi = h.core.token('obi', 'observer');
  await followLabEvents();
});
afterAll(async () => {
  stopEvents.abort();
  await h?.close();
});

describe('cli lab lifecycle on the real core', () => {
  it('cli lab apply --wait - the example lab is deployed member by member and ends ready (exit 0)', async () => {
    const res = await h.cli(['lab', 'apply', EXAMPLE, ...WAIT], olga, LINES);
    expect(res.code, res.stderr).toBe(EXIT.ok);
    // The plan first, then the lab's steps and each member's progress, one line per change.
    expect(res.stderr).toMatch(/^\+ create pool 'three-tier'$/m);
    expect(res.stderr).toMatch(/^lab three-tier \(lab\): networks$/m);
    expect(res.stderr).toMatch(/^lab three-tier: \S+ → ready$/m);
    for (const m of MEMBERS) {
      expect(res.stderr).toMatch(new RegExp(`^${m}: .*\\(vmid \\d+ on pve\\d\\)$`, 'm'));
      expect(res.stderr).toMatch(new RegExp(`^${m}: \\S+ → ready$`, 'm'));
    }
    expect(res.stdout).toMatch(/^lab three-tier \(lab\): ready\n/);
    expect(res.stdout).toMatch(/^web-3\s+web\s+\d+\s+pve\d\s+ready$/m);
  }, 120_000);

  it('cli lab status and list - every member ready with its VMID; the lab is listed ready with 5 members', async () => {
    const lab = await labNow();
    expect(lab.status).toBe('ready');
    expect(lab.members.map((m) => m.name)).toEqual(MEMBERS);
    for (const m of lab.members) {
      expect(m.phase, m.name).toBe('ready');
      expect(m.vmid, m.name).toEqual(expect.any(Number));
    }
    const shown = await h.cli(['lab', 'status', 'three-tier'], obi);
    expect(shown.stdout).toMatch(/^status:\s+ready$/m);
    for (const m of lab.members) {
      expect(shown.stdout).toMatch(new RegExp(`^${m.name}\\s+${m.vm}\\s+${m.vmid}\\s+${m.node}\\s+ready$`, 'm'));
    }
    const list = await h.cli(['lab', 'list'], obi);
    expect(list.code, list.stderr).toBe(EXIT.ok);
    expect(list.stdout).toMatch(/^three-tier\s+lab\s+ready\s+5\s/m);
  });

  it('cli lab apply - the simulator has the lab pool with its 5 VMs and the VNets of its zone', async () => {
    const lab = await labNow();
    const { state } = h.core.stack.sim;
    expect(state.pools.has('three-tier')).toBe(true);
    const inPool = [...state.vms.values()].filter((v) => v.pool === 'three-tier');
    expect(inPool.map((v) => v.vmid).sort()).toEqual(lab.members.map((m) => m.vmid).sort());
    expect(inPool.map((v) => v.name).sort()).toEqual(MEMBERS.map((m) => `three-tier-${m}`).sort());
    for (const v of inPool) expect(v.status, v.name).toBe('running');
    // Configured and applied (the running config), VLAN-tagged in the lab's zone.
    for (const sdn of [state.sdn.config, state.sdn.running]) {
      expect(sdn?.zones.ttier).toMatchObject({ type: 'vlan', bridge: 'vmbr0' });
      expect(sdn?.vnets.ttfront).toMatchObject({ zone: 'ttier', tag: 1101 });
      expect(sdn?.vnets.ttback).toMatchObject({ zone: 'ttier', tag: 1102 });
    }
  });

  it('cli lab apply - the status events cloning … ready were published, in order', async () => {
    await eventSeen('ready');
    expect(labStatuses()).toEqual(['planning', 'gating', 'networks', 'cloning', 'configuring', 'starting', 'ready']);
    const ready = events.find((e) => e.subject === 'overseer.evt.lab.three-tier.ready');
    expect(ready?.payload).toMatchObject({ lab: 'three-tier', cluster: 'lab', from: 'starting', to: 'ready' });
  });

  it('cli lab trust - an observer cannot apply: the gateway answers 403, exit 7, nothing new', async () => {
    const labs = h.core.stack.store.labs.count();
    const res = await h.cli(['lab', 'apply', EXAMPLE], obi);
    expect(res.code, res.stdout + res.stderr).toBe(EXIT.auth);
    expect(res.stderr).toMatch(/needs the operator role; the token's role is observer/);
    const direct = await api('POST', '/v1/labs', obi, { file: 'name: x\n', fileName: 'x.yaml' });
    expect(direct.status).toBe(403);
    expect(h.core.stack.store.labs.count()).toBe(labs);
    expect((await labNow()).generation).toBe(0);
  });

  it('cli lab trust - an operator cannot destroy a lab (admin only): 403, exit 7, the lab stays ready', async () => {
    const ops = h.core.stack.sim.oplog.length;
    const res = await h.cli(['lab', 'destroy', 'three-tier'], olga);
    expect(res.code, res.stdout + res.stderr).toBe(EXIT.auth);
    expect(res.stderr).toMatch(/needs the admin role; the token's role is operator/);
    expect((await api('POST', '/v1/labs/three-tier/destroy', olga, {})).status).toBe(403);
    expect((await labNow()).status).toBe('ready');
    expect(h.core.stack.sim.oplog.length).toBe(ops);
  });

  it('cli lab trust - a request claiming the lab as its parent is refused by input validation; no clone', async () => {
    const deploy = {
      action: 'deploy',
      target: { cluster: 'lab' },
      params: { template: 9000, node: 'pve1', name: 'three-tier-web-9' },
      force: false,
    };
    // The same body without the claim is a valid submission (decided, nothing done as a dry run).
    const valid = await api('POST', '/v1/requests?dryRun=true', olga, deploy);
    expect(valid.status, JSON.stringify(valid.body)).toBe(200);
    const requests = h.core.stack.store.requests.count();
    const clones = h.core.stack.sim.oplog.filter((o) => o.op === 'clone').length;
    const claimed = await api('POST', '/v1/requests', olga, { ...deploy, parent: 'lab:lab/three-tier' });
    expect(claimed.status).toBe(400);
    expect(claimed.body.error).toMatchObject({ code: 'invalid_input', field: 'parent', in: 'body' });
    await h.core.stack.advance(30_000);
    expect(h.core.stack.store.requests.count()).toBe(requests);
    expect(h.core.stack.sim.oplog.filter((o) => o.op === 'clone').length).toBe(clones);
    expect(simLabVms().map((v) => v.name)).not.toContain('three-tier-web-9');
  });

  it('cli lab snapshot --wait - every member is snapshotted under one name and the lab is ready again', async () => {
    const res = await h.cli(['lab', 'snapshot', 'three-tier', 'base', ...WAIT], olga, LINES);
    expect(res.code, res.stderr).toBe(EXIT.ok);
    expect(res.stdout).toMatch(/^lab three-tier \(lab\): ready\n/);
    const lab = await labNow();
    expect(lab.failure).toBeUndefined();
    expect(lab.snapshots.map((s) => [s.name, s.members.length])).toEqual([['base', 5]]);
    const vms = simLabVms();
    expect(vms).toHaveLength(5);
    for (const v of vms)
      expect(
        v.snapshots.some((s) => s.name === 'base'),
        v.name,
      ).toBe(true);
  }, 120_000);

  it('cli lab destroy --wait - an admin tears it down: destroyed, nothing of it left on the simulator', async () => {
    const res = await h.cli(['lab', 'destroy', 'three-tier', ...WAIT], ada, LINES);
    expect(res.code, res.stderr).toBe(EXIT.ok);
    expect(res.stdout).toMatch(/^lab three-tier \(lab\): destroyed\n/);
    expect((await labNow()).status).toBe('destroyed');
    const { state } = h.core.stack.sim;
    expect(simLabVms()).toEqual([]);
    expect(state.pools.has('three-tier')).toBe(false);
    for (const sdn of [state.sdn.config, state.sdn.running]) {
      expect(Object.keys(sdn?.zones ?? {})).not.toContain('ttier');
      expect(Object.keys(sdn?.vnets ?? {})).not.toContain('ttfront');
      expect(Object.keys(sdn?.vnets ?? {})).not.toContain('ttback');
    }
    await eventSeen('destroyed');
    expect(labStatuses().slice(-2)).toEqual(['tearing_down', 'destroyed']);
    const live = await h.cli(['lab', 'list'], obi);
    expect(live.stdout).not.toMatch(/^three-tier\s/m);
    const all = await h.cli(['lab', 'list', '--all'], obi);
    expect(all.stdout).toMatch(/^three-tier\s+lab\s+destroyed\s+0\s/m);
  }, 120_000);
});
