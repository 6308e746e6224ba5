#!/usr/bin/env node
// The `overseer` command: registers tsx so the TypeScript sources run as they are. `overseer serve` runs the
// Overseer process itself (actors/main.ts); every other command is the HTTP client (cli/main.ts).
import { register } from 'tsx/esm/api';

register();
if (process.argv[2] === 'serve') {
  const { main } = await import('../actors/main.ts');
  await main(process.argv.slice(3));
} else {
  const { runFromProcess } = await import('./main.ts');
  process.exitCode = await runFromProcess();
}
