// The execution loop's cost per event as its backlog grows (issue 14: actors sized for 100k members). The real
// machine (machines/loops/execution-loop.machine.ts, per-node limit 2) and a `startExecution` that only records:
// <n> requests enqueued over <nodes> nodes, then each started one finished in turn (each FINISHED starts the next
// on its node). Baseline in the same run: the same with a backlog of 20 requests on 4 nodes. A loop whose event
// costs grow with its backlog makes a bulk approval quadratic; the ratio should stay near 1.
// Run: node --import tsx bench/execution-loop.ts
import { createActor } from 'xstate';
import { executionLoopMachine } from '../machines';

/** Mean µs per ENQUEUE and per FINISHED for `n` requests over `nodes` nodes. */
function run(n: number, nodes: number): [enqueue: number, finish: number] {
  const started: string[] = [];
  const logic = executionLoopMachine.provide({ actions: { startExecution: (_, w) => started.push(w.requestId) } });
  const actor = createActor(logic, { input: { perNodeLimit: 2 } }).start();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) actor.send({ type: 'ENQUEUE', work: { requestId: `r${i}`, node: `n${i % nodes}` } });
  const t1 = performance.now();
  for (let done = 0; done < started.length; done++)
    actor.send({ type: 'FINISHED', requestId: started[done] as string });
  const t2 = performance.now();
  if (started.length !== n) throw new Error(`${started.length} of ${n} requests started`);
  return [((t1 - t0) * 1000) / n, ((t2 - t1) * 1000) / n];
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
for (let i = 0; i < 5; i++) run(2000, 4); // JIT warm-up
const sizes: [number, number][] = [
  [20, 4],
  [2_000, 1],
  [10_000, 1],
  [10_000, 20],
  [30_000, 20],
];
console.log('| backlog | nodes | runs | µs per ENQUEUE | µs per FINISHED | × the 20-request backlog |');
console.log('|---:|---:|---:|---:|---:|---:|');
let base = 0;
for (const [n, nodes] of sizes) {
  const runs = Math.min(50, Math.max(3, Math.floor(20_000 / n)));
  const samples = Array.from({ length: runs }, () => run(n, nodes));
  const [enq, fin] = [median(samples.map((s) => s[0])), median(samples.map((s) => s[1]))];
  if (base === 0) base = enq + fin;
  const f = (x: number) => x.toFixed(1);
  console.log(
    `| ${n.toLocaleString('en')} | ${nodes} | ${runs} | ${f(enq)} | ${f(fin)} | ${((enq + fin) / base).toFixed(2)} |`,
  );
}
