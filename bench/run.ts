// Runs every benchmark in its own node process (with --expose-gc) and prints their tables.
import { execFileSync } from 'node:child_process';

const benches: { file: string; args: string[] }[] = [
  { file: 'bench/actors.ts', args: ['10000,100000'] },
  { file: 'bench/sync.ts', args: ['1000,10000,100000'] },
  { file: 'bench/gateway.ts', args: ['10'] },
  { file: 'bench/detection.ts', args: ['200', '10,5,30'] },
  { file: 'bench/events.ts', args: ['10000', '2', '3', '2000'] },
  { file: 'bench/recovery.ts', args: ['5'] },
  { file: 'bench/dashboard.ts', args: ['10000', '10', '1000', '5'] },
  { file: 'bench/labs.ts', args: ['2,4,8,9,16', '2,8'] },
];

for (const { file, args } of benches) {
  console.log(`\n## ${file} ${args.join(' ')}\n`);
  const out = execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', file, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  process.stdout.write(out);
}
