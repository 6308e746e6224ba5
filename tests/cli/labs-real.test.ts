// `overseer lab plan` and `overseer lab apply` of bad files against the real core on the PVE simulator (the demo
// cluster 'lab'): the example lab plans what an apply would create and nothing is done; a bad file names each problem
// with its path and line; an apply of a bad file is refused with one error naming the path, and nothing is created.
// The lab applied and followed to the end is tests/cli/labs-apply-real.test.ts.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/main';
import type { SimCoreToken } from '../helpers/sim-core';
import { GOOD } from '../labs/helpers';
import type { RealCoreHarness } from './real-core';
import { startRealCoreHarness } from './real-core';

const EXAMPLE = join(import.meta.dirname, '../../examples/labs/three-tier.yaml');

let h: RealCoreHarness;
let obi: SimCoreToken;
let olga: SimCoreToken;
let dir: string;
beforeAll(async () => {
  h = await startRealCoreHarness();
  obi = h.core.token('obi', 'observer');
  olga = h.core.token('olga', 'operator');
  dir = mkdtempSync(join(tmpdir(), 'overseer-lab-'));
});
afterAll(async () => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  await h?.close();
});

/** `good` with `from` replaced by `to` (which must be there). */
function edited(good: string, ...swaps: [string, string][]): string {
  let text = good;
  for (const [from, to] of swaps) {
    if (!text.includes(from)) throw new Error(`the good file has no '${from}'`);
    text = text.replace(from, to);
  }
  return text;
}

/** Everything an apply could have left behind: lab records, requests, platform operations, pools, SDN zones. */
function footprint() {
  const { store, sim } = h.core.stack;
  return {
    labs: store.labs.count(),
    requests: store.requests.count(),
    ops: sim.oplog.length,
    pools: [...sim.state.pools.keys()].sort(),
    zones: Object.keys(sim.state.sdn.config.zones).sort(),
  };
}

describe('cli labs on the real core', () => {
  it('cli lab plan - the example lab plans its pool, network and every member, and nothing is done', async () => {
    const requests = h.core.stack.store.requests.count();
    const ops = h.core.stack.sim.oplog.length;
    const res = await h.cli(['lab', 'plan', EXAMPLE], obi);
    expect(res.code, res.stderr).toBe(EXIT.ok);
    expect(res.stdout).toMatch(/^\+ .*pool/m);
    expect(res.stdout).toMatch(/^\+ .*router/m);
    expect(res.stdout).toMatch(/^\+ .*web-3/m);
    expect(res.stdout).toMatch(/lab '[^']+': \d+ to create, 0 to change, 0 to replace, 0 to start, 0 to remove/);
    expect(h.core.stack.store.requests.count()).toBe(requests);
    expect(h.core.stack.sim.oplog.length).toBe(ops);
  });

  it('cli lab plan - a bad file: each problem with its path and line, exit 2, nothing done', async () => {
    const bad = [
      'name: broken',
      'cluster: lab',
      'vms:',
      '  - name: a',
      '    template: 9000',
      '    dependsOn: [b]',
      '  - name: b',
      '    template: 9000',
      '    dependsOn: [a]',
      '    colour: blue',
      '',
    ].join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'overseer-lab-'));
    const file = join(dir, 'broken.yaml');
    writeFileSync(file, bad);
    try {
      const res = await h.cli(['lab', 'plan', file], obi);
      expect(res.code, res.stdout).toBe(EXIT.usage);
      expect(res.stderr).toMatch(/broken\.yaml: vms\[1\]\.colour \(line 10\): /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('cli lab apply - a bad file is refused with one error naming its path (exit 2) and nothing is created', async () => {
    const cases: { what: string; file: string; path: RegExp }[] = [
      {
        what: 'a dependency cycle',
        file: edited(GOOD, ['    memory: 1G\n', '    memory: 1G\n    dependsOn: [client]\n']),
        path: /vms\[0\]\.dependsOn\[0\] \(line \d+\): dependency cycle: router → client-1 → dc → router/,
      },
      {
        what: 'an unknown template',
        file: edited(GOOD, [
          '  - name: dc\n    template: debian-12-template',
          '  - name: dc\n    template: windows-2022',
        ]),
        path: /vms\[1\]\.template \(line \d+\): unknown template 'windows-2022' on cluster 'lab'/,
      },
      {
        what: 'an unknown key',
        file: edited(GOOD, ['    memory: 1G\n', '    memory: 1G\n    bogus: 1\n']),
        path: /vms\[0\]\.bogus \(line \d+\): unknown key 'bogus'/,
      },
      {
        what: 'duplicate member names',
        file: edited(GOOD, ['  - name: dc\n', '  - name: router\n'], ['dependsOn: [dc]', 'dependsOn: [router]']),
        path: /vms\[1\]\.name \(line \d+\): duplicate VM name 'router' \(also vms\[0\]\)/,
      },
      {
        what: 'overlapping subnets',
        file: edited(
          GOOD,
          ['cidr: 10.31.0.0/24, gateway: 10.31.0.1', 'cidr: 10.30.0.0/23, gateway: 10.30.1.1'],
          ['address: 10.31.0.1 }', 'address: 10.30.1.1 }'],
        ),
        path: /networks\.vnets\[1\]\.subnets\[0\]\.cidr \(line \d+\): 10\.30\.0\.0\/23 overlaps 10\.30\.0\.0\/24/,
      },
      {
        what: 'more members than the cluster has room for (200 × 32 GiB)',
        file: [
          'name: huge',
          'cluster: lab',
          'vms:',
          '  - name: big',
          '    template: debian-12-template',
          '    count: 200',
          '    memory: 32G',
          '    networks: [{ bridge: vmbr0, address: dhcp }]',
          '',
        ].join('\n'),
        path: /vms\[0\]\.(count|memory) \(line \d+\): no node has room for /,
      },
    ];
    const good = join(dir, 'good.yaml');
    writeFileSync(good, GOOD);
    const plan = await h.cli(['lab', 'plan', good], obi);
    expect(plan.code, `the good file plans: ${plan.stderr}`).toBe(EXIT.ok);
    const before = footprint();
    for (const [i, c] of cases.entries()) {
      const file = join(dir, `bad-${i}.yaml`);
      writeFileSync(file, c.file);
      const res = await h.cli(['lab', 'apply', file], olga);
      expect(res.code, `${c.what}: ${res.stdout}${res.stderr}`).toBe(EXIT.usage);
      expect(res.stdout, c.what).toBe('');
      const lines = res.stderr.trimEnd().split('\n');
      expect(lines, c.what).toHaveLength(1);
      expect(lines[0], c.what).toMatch(c.path);
      expect(footprint(), c.what).toEqual(before);
    }
  });
});
