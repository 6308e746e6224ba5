import { join } from 'node:path';
import { it } from 'vitest';
import { startRealCoreHarness } from './real-core';

const EXAMPLE = join(import.meta.dirname, '../../examples/labs/three-tier.yaml');
it('explore', async () => {
  const h = await startRealCoreHarness({ events: true });
  const olga = h.core.token('olga', 'operator');
  let t0 = Date.now();
  const res = await h.cli(['lab', 'apply', EXAMPLE], olga);
  console.log(res.code, Date.now() - t0, h.core.stack.stamp(), res.stdout.slice(0, 100));
  t0 = Date.now();
  const ok = await h.core.stack.advanceUntil(
    () => h.core.stack.store.labs.get('lab', 'three-tier')?.status === 'ready',
    300_000,
  );
  console.log(ok, Date.now() - t0, h.core.stack.stamp());
  t0 = Date.now();
  await h.close();
  console.log('close', Date.now() - t0);
}, 300_000);
