#!/usr/bin/env node
// The `overseer` command: registers tsx so the TypeScript sources run as they are, then runs the command line
// (cli/main.ts). `overseer serve` runs the Overseer process itself (actors/main.ts, through cli/commands/serve.ts);
// every other command is the HTTP client.
import { register } from 'tsx/esm/api';

register();
const { runFromProcess } = await import('./main.ts');
process.exitCode = await runFromProcess();
