// The gateway thread's program when Overseer runs from its sources (cli/bin.js): TypeScript through tsx, as the
// process itself. Built, dist/server/gateway-thread-entry.mjs is this (scripts/build-server.mjs).
import { register } from 'tsx/esm/api';

register();
const { runGatewayThread } = await import('./gateway-thread.ts');
runGatewayThread();
