import { join } from 'node:path';
import { it } from 'vitest';
import { startRealCoreHarness } from './real-core';

const EXAMPLE = join(import.meta.dirname, '../../examples/labs/three-tier.yaml');
it('explore', async () => {
  const h = await startRealCoreHarness({ events: true });
  const seen: string[] = [];
  h.core.bus.subscribe('overseer.evt.lab.>', (s) => seen.push(s));
  const olga = h.core.token('olga', 'operator');
  const t0 = Date.now();
  const res = await h.cli(['lab', 'apply', EXAMPLE, '--wait', '--timeout', '60'], olga, { timePasses: true, env: { OVERSEER_PROGRESS: 'lines' } });
  console.log(res.code, Date.now() - t0, h.core.stack.stamp());
  console.log(res.stdout);
  console.log(res.stderr);
  console.log(seen);
  const st = await h.cli(['lab', 'status', 'three-tier'], olga);
  console.log(st.stdout);
  console.log((await h.cli(['lab', 'list'], olga)).stdout);
  const s = h.core.stack.sim.state;
  console.log([...s.pools.entries()], JSON.stringify(s.sdn.config), JSON.stringify(s.sdn.running));
  console.log([...s.vms.values()].filter((v) => v.pool).map((v) => [v.vmid, v.name, v.pool]));
  await h.close();
}, 120_000);
