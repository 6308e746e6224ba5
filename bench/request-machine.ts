// The request machine alone (issue 14): XState's own cost of a decision. The real machine (machines/request.machine.ts)
// with its validation and gate answering at once (the same promise logic the runtime gives them,
// actors/promise-logic.ts), created, started and run to `denied` — no log, store, events, journal or inspection, one
// subscriber as the runtime's watch has. Ten actors at a time, as in decision-writes.ts's bursts.
// Compare with a decision's CPU in decision-writes.ts and gateway.ts: what the machine costs of it.
// Run: node --import tsx bench/request-machine.ts [decisions per round = 20000] [rounds = 3]
import { createActor, waitFor } from 'xstate';
import { fromSettled } from '../actors/promise-logic';
import type { RequestInput } from '../machines/request.machine';
import { requestMachine } from '../machines/request.machine';
import type { CheckResult, GateResult } from '../machines/types';
import { requestSpec } from '../tests/machines/fixtures';

const decisions = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 3);
if (!(decisions > 0) || !(rounds > 0)) throw new Error('usage: bench/request-machine.ts [decisions] [rounds]');
const BURST = 10;

const schema: CheckResult = { check: 'schema', outcome: 'pass', reason: 'valid' };
const denial: GateResult = {
  decision: 'denied',
  checks: [schema, { check: 'production', outcome: 'deny', reason: 'VM 101 is production' }],
  reasons: ['VM 101 is production'],
};
const logic = requestMachine.provide({
  actors: { validate: fromSettled(async () => schema), gate: fromSettled(async () => denial) },
});
const input: RequestInput = { spec: requestSpec({ action: 'destroy' }), approvalTimeoutMs: 60_000 };

async function decide(): Promise<void> {
  const actor = createActor(logic, { input });
  actor.subscribe(() => {});
  actor.start();
  const done = await waitFor(actor, (s) => s.status === 'done');
  if (done.value !== 'denied') throw new Error(`the machine ended in ${String(done.value)}`);
}

async function run(n: number): Promise<number> {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i += BURST) await Promise.all(Array.from({ length: BURST }, decide));
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

await run(5_000);
console.log(`Command: node --import tsx bench/request-machine.ts ${decisions} ${rounds}`);
const results: string[] = [];
for (let r = 0; r < rounds; r++) results.push((await run(decisions)).toFixed(1));
console.log(
  `CPU µs per request actor created and run to 'denied' (${BURST} at a time), per round: ${results.join(', ')}`,
);
