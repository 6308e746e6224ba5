#!/usr/bin/env node
// The `overseer` command: registers tsx so the TypeScript sources run as they are, then runs the CLI.
import { register } from 'tsx/esm/api';

register();
const { runFromProcess } = await import('./main.ts');
process.exitCode = await runFromProcess();
