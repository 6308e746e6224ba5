// `overseer lab plan` against the real core on the PVE simulator (the demo cluster 'lab'): the example lab plans
// what an apply would create and nothing is done; a bad file names each problem with its path and line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/main';
import type { SimCoreToken } from '../helpers/sim-core';
import type { RealCoreHarness } from './real-core';
import { startRealCoreHarness } from './real-core';

const EXAMPLE = join(import.meta.dirname, '../../examples/labs/three-tier.yaml');

let h: RealCoreHarness;
let obi: SimCoreToken;
beforeAll(async () => {
  h = await startRealCoreHarness();
  obi = h.core.token('obi', 'observer');
});
afterAll(() => h?.close());

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
});
