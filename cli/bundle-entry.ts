// The entry of the built `overseer` command (dist/server/overseer.mjs, made by scripts/build-server.mjs): the same
// command line as cli/bin.js, without tsx — `npm start` runs this, so a start does not transpile every module.
import { runFromProcess } from './main';

process.exitCode = await runFromProcess();
