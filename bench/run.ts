// Runs every benchmark in its own node process (with --expose-gc), prints their tables, then issue 14's target
// table collected from the rows the benchmarks report (bench/targets.ts). First, what the tests' setup makes sure of
// (tests/setup/prerequisites.ts): the benchmarks run the same programs (nats-server, chromium, ...) and the dashboard.
import { execFileSync } from 'node:child_process';
import { ensurePrerequisites } from '../tests/setup/prerequisites';
import { TARGET_TAG, type TargetReport, targetTable } from './targets';

ensurePrerequisites('the benchmarks (npm run bench)');

const benches: { file: string; args: string[] }[] = [
  { file: 'bench/actors.ts', args: ['10000,100000'] },
  { file: 'bench/sync.ts', args: ['1000,10000,100000'] },
  { file: 'bench/sync-latency.ts', args: ['10000', '30', '1'] },
  { file: 'bench/gateway.ts', args: ['10'] },
  // The floor under gateway.ts's decisions/s: what the design card's parts alone cost per decision.
  { file: 'bench/decision-floor.ts', args: ['3', '3'] },
  { file: 'bench/detection.ts', args: ['200', '10,5,30'] },
  { file: 'bench/events.ts', args: ['10000', '2', '3', '2000'] },
  // The floor under events.ts's ratio: what they alone cost per VM state change.
  { file: 'bench/event-floor.ts', args: ['10000', '2', '3'] },
  { file: 'bench/recovery.ts', args: ['5'] },
  { file: 'bench/dashboard.ts', args: ['10000', '10', '1000', '5'] },
  { file: 'bench/labs.ts', args: ['2,4,8,9,16', '2,8'] },
  { file: 'bench/multi-core.ts', args: ['3'] },
];

const reports: TargetReport[] = [];
const failed: string[] = [];
for (const { file, args } of benches) {
  console.log(`\n## ${file} ${args.join(' ')}\n`);
  let out: string;
  try {
    out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', file, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (error) {
    // One benchmark that fails (its error is on stderr) does not hide the others' results: what it printed is kept.
    out = String((error as { stdout?: unknown }).stdout ?? '');
    failed.push(file);
  }
  for (const line of out.split('\n')) {
    if (line.startsWith(`${TARGET_TAG} `)) reports.push(JSON.parse(line.slice(TARGET_TAG.length + 1)) as TargetReport);
    else process.stdout.write(`${line}\n`);
  }
}

console.log('\n## Issue 14 targets\n');
console.log(targetTable(reports));
if (failed.length > 0) {
  console.log(`\nFAILED: ${failed.join(', ')} (see the errors above)`);
  process.exitCode = 1;
}
