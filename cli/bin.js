#!/usr/bin/env node
// The `overseer` command: registers tsx so the TypeScript sources run as they are, then runs the command line
// (cli/main.ts). `overseer serve` runs the Overseer process itself (actors/main.ts, through cli/commands/serve.ts);
// every other command is the HTTP client.
// On Node ≥ 22.1, V8's compile cache (in the OS temp folder) spares a start most of its compiling; Node 20 has no
// such switch (the built command, dist/server/overseer.mjs, keeps a code cache of its own: scripts/build-server.mjs).
import module from 'node:module';
import { register } from 'tsx/esm/api';

module.enableCompileCache?.();
register();
const { runFromProcess } = await import('./main.ts');
process.exitCode = await runFromProcess();
