import { demoSeed } from '../adapters/pve-sim';
import { createSimStack } from '../tests/helpers/sim-stack';

const perNode = Number(process.argv[2] ?? 2);
const levels = [
  ['core', 2, []],
  ['mid', 8, ['core']],
  ['web', 40, ['mid']],
] as const;
const lab = {
  name: 'bench50',
  cluster: 'lab',
  vms: levels.map(([name, count, deps]) => ({
    name,
    template: 'debian-12-template',
    count,
    memory: '512M',
    networks: [{ bridge: 'vmbr0', address: 'dhcp' }],
    dependsOn: deps,
    probe: { type: 'agent' },
  })),
  policy: { parallelism: 50, onFailure: 'keep' },
};
const seed = demoSeed();
seed.nodes = seed.nodes.map((n) => ({ ...n, maxmem: 1024 ** 4 }));
const lines: string[] = [];
let now = () => 0;
const stack = await createSimStack({
  seed,
  config: { execution: { perNodeConcurrency: perNode } },
  logLevel: 'warn',
  write: (l) => {
    lines.push(l);
  },
});
now = () => stack.clock.now();
stack.overseer.start();
await stack.settle();
await stack.advance(5000);
const t0 = stack.clock.now();
const w0 = performance.now();
const view = await stack.overseer.labService.apply(JSON.stringify(lab), 'bench.json', { id: 'alice', role: 'admin' });
console.log('answer', view.status);
if (view.status === 'awaiting_approval')
  console.log('approve', stack.overseer.labService.approve({ name: 'bench50' }, { id: 'bob', role: 'admin' }).status);
const ok = await stack.advanceUntil(
  () =>
    ['ready', 'failed', 'rolled_back', 'denied'].includes(
      stack.overseer.labService.get({ name: 'bench50' })?.status ?? '',
    ),
  3600_000,
);
const v = stack.overseer.labService.get({ name: 'bench50' });
console.log(
  ok,
  v?.status,
  v?.failure,
  (stack.clock.now() - t0) / 1000,
  's sim',
  ((performance.now() - w0) / 1000).toFixed(1),
  's wall',
);
for (const l of lines.filter((l) => /lab:lab\/bench50: state|warn|error/.test(l)).slice(0, 40)) console.log(l);
console.log(stack.sim.oplog.filter((e) => e.op === 'clone' && e.result === 'OK').length);
await stack.cleanup();
