// One Overseer process for the end-to-end tests: `serve(['--role', <role>], process.env)` from actors/main.ts,
// as `overseer serve` runs it. Prints `READY {"role":...}` once serving; stops cleanly on SIGTERM/SIGINT, and
// on its own when the test process that started it goes away (so no child outlives a crashed test run).
// Run: node --import tsx tests/e2e/serve-child.ts <all|core|gateway>
import { serve } from '../../actors/main';

const role = process.argv[2] ?? 'all';
const parent = process.ppid;
let stop: (() => Promise<void>) | undefined;
let stopping = false;

async function shutdown(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  try {
    await stop?.();
  } finally {
    process.exit(code);
  }
}

process.once('SIGTERM', () => void shutdown(0));
process.once('SIGINT', () => void shutdown(0));
// Orphaned (the test runner died): stop as well.
setInterval(() => {
  if (process.ppid !== parent) void shutdown(0);
}, 500).unref();

try {
  stop = await serve(['--role', role], process.env);
  process.stdout.write(`READY ${JSON.stringify({ role, pid: process.pid })}\n`);
} catch (error) {
  process.stderr.write(`serve-child ${role}: ${error instanceof Error ? (error.stack ?? error.message) : error}\n`);
  await shutdown(1);
}
