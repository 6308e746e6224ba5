// Builds the `overseer` command into one ES module, dist/server/overseer.mjs, which `npm start` runs: the
// project's TypeScript bundled by esbuild (the bundler tsx already uses to run it from source), every npm package
// left to Node to load. Loading one file instead of transpiling some 400 modules on each start is most of a
// restart's time (bench/recovery.ts). The bundle sits two folders below the project root, as every source file
// does, so paths the sources build from import.meta.url (ui/dist, the shipped runbooks) point at the same places.
// Run: node scripts/build-server.mjs
import { build } from 'esbuild';

await build({
  entryPoints: ['cli/bundle-entry.ts'],
  outfile: 'dist/server/overseer.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  packages: 'external',
  sourcemap: 'linked',
  logLevel: 'warning',
});
