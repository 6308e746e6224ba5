// Builds the `overseer` command, dist/server/overseer.mjs, which `npm start` runs. Why it is built this way
// (measured with bench/recovery.ts; bench/README.md, "Recovery"): a start spent most of its time loading modules —
// Node's resolver walking node_modules, reading and compiling some 900 files one by one, CommonJS packages such as
// undici evaluating every file they require — and compiling what it had loaded.
//
// - One bundle (dist/server/overseer-bundle.cjs): the project's TypeScript and the npm packages it uses, bundled by
//   esbuild (the bundler tsx already uses to run the sources), tree-shaken, whitespace and syntax minified
//   (identifiers keep their names: stack traces, error names). Only packages with a native part (better-sqlite3,
//   ssh2 and their optional addons) stay files of their own in node_modules.
// - A small loader (dist/server/overseer.mjs) runs it with V8's code cache, which Node 20 offers only through
//   node:vm (node:module's enableCompileCache needs Node ≥ 22.1): the first start compiles the bundle as any start
//   did; a few seconds later it writes what V8 compiled to dist/server/overseer-bundle.<hash>.v8-cache, and the
//   next start reads it instead of compiling again. The cache file is named by a hash of the bundle (V8 itself only
//   checks its length), so a rebuilt bundle never runs with another build's code; V8 rejects a cache of another
//   Node version, and a rejected, missing or unwritable cache only means compiling as before.
//
// The bundle sits two folders below the project root, as every source file does, so paths the sources build from
// import.meta.url (ui/dist, the shipped runbooks) point at the same places.
// Run: node scripts/build-server.mjs
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The gateway thread's program, beside the sources (actors/, run by tsx) and in dist/server (built). */
const GATEWAY_THREAD_ENTRY = 'gateway-thread-entry';

/** Packages with native addons (or optional ones), which must stay files of their own in node_modules. */
export const NATIVE_PACKAGES = ['better-sqlite3', 'ssh2', 'cpu-features', 'bufferutil', 'utf-8-validate'];

/**
 * Bundles `contents` (an ES module resolved from the project root, run for its effects) into `<outDir>/<name>-bundle.cjs`
 * and writes its loader `<outDir>/<name>.mjs`. bench/recovery.ts builds its baseline server with this too.
 */
export async function buildServer({ contents, outDir, name, root = process.cwd() }) {
  mkdirSync(outDir, { recursive: true });
  // Caches of earlier builds are named by their bundle's hash: none is left behind.
  for (const file of readdirSync(outDir)) {
    if (file.startsWith(`${name}-bundle.`) && file.endsWith('.v8-cache')) rmSync(join(outDir, file));
  }
  const bundle = join(outDir, `${name}-bundle.cjs`);
  await build({
    stdin: { contents, resolveDir: root, loader: 'ts', sourcefile: `${name}-entry.ts` },
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: NATIVE_PACKAGES,
    // The sources' import.meta.url, in a CommonJS bundle: the bundle's own file URL.
    define: { 'import.meta.url': '__bundleUrl' },
    banner: { js: "var __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
    minifyWhitespace: true,
    minifySyntax: true,
    sourcemap: 'linked',
    // Licence comments go to <bundle>.LEGAL.txt: one of them (formdata-polyfill's) was the bundle's only non-ASCII
    // text, and made every start decode 4 MB as UTF-8 instead of copying it (see `encoding` below).
    legalComments: 'external',
    logLevel: 'warning',
    plugins: [engineFetchWithoutUndici],
  });
  const bytes = readFileSync(bundle);
  const hash = createHash('sha256').update(bytes).digest('hex').slice(0, 16);
  // esbuild writes non-ASCII characters of strings and identifiers as escapes, so the bundle is ASCII, which the
  // loader reads as latin1 (a plain copy, ~8 ms less of a start than decoding UTF-8); should it ever not be, as UTF-8.
  const encoding = bytes.every((b) => b < 0x80) ? 'latin1' : 'utf8';
  writeFileSync(join(outDir, `${name}.mjs`), loader(basename(bundle), `${name}-bundle.${hash}.v8-cache`, encoding));
}

/**
 * proxmox-api's engine imports `fetch` from its own copy of undici (6.x, beside the project's 7.x) only as the default
 * for a `fetch` option Overseer always gives (adapters/proxmox/session.ts). Without this, the bundle carried that
 * whole second undici (544 KB of 4.5 MB) and every start evaluated it; here its import is Node's global fetch.
 */
const engineFetchWithoutUndici = {
  name: 'engine-fetch-without-undici',
  setup(b) {
    b.onResolve({ filter: /^undici$/ }, (args) =>
      args.importer.includes('node_modules/proxmox-api/') ? { path: 'undici', namespace: 'engine-fetch' } : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'engine-fetch' }, () => ({
      contents: 'export const fetch = (...args) => globalThis.fetch(...args);',
      loader: 'js',
    }));
  },
};

/** The loader: runs the CommonJS bundle beside it through node:vm, with V8's code cache when there is one. */
function loader(bundleFile, cacheFile, encoding) {
  return `// Generated by scripts/build-server.mjs: runs ${bundleFile} with V8's code cache (see there).
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

const dir = dirname(fileURLToPath(import.meta.url));
const file = join(dir, ${JSON.stringify(bundleFile)});
const cacheFile = join(dir, ${JSON.stringify(cacheFile)});
/** How long after the start the cache is written: what the start compiled is in it by then. */
const CACHE_AFTER_MS = 5000;
// With --enable-source-maps (stack traces with source lines), Node's own loader, which reads the source map.
if (process.sourceMapsEnabled ?? process.execArgv.includes('--enable-source-maps')) {
  createRequire(import.meta.url)(file);
} else {
  runCached();
}

function runCached() {
  let cachedData;
  try {
    cachedData = readFileSync(cacheFile);
  } catch {}
  const script = new vm.Script(
    '(function (exports, require, module, __filename, __dirname) {' + readFileSync(file, ${JSON.stringify(encoding)}) + '\\n})',
    {
      filename: file,
      cachedData,
      importModuleDynamically: vm.constants?.USE_MAIN_CONTEXT_DEFAULT_LOADER ?? ((specifier) => import(specifier)),
    },
  );
  if (cachedData === undefined || script.cachedDataRejected) {
    setTimeout(() => {
      const tmp = cacheFile + '.' + process.pid;
      try {
        writeFileSync(tmp, script.createCachedData());
        renameSync(tmp, cacheFile);
      } catch {
        rmSync(tmp, { force: true });
      }
    }, CACHE_AFTER_MS).unref();
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dir);
}
`;
}

// node scripts/build-server.mjs: the `overseer` command. With `<entry> <outDir> <name>` (bench/recovery.ts, its
// baseline): a module run for its effects, built the same way.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [entry, outDir = 'dist/server', name = 'overseer'] = process.argv.slice(2);
  if (entry) {
    await buildServer({ contents: `import ${JSON.stringify(`./${entry}`)};\n`, outDir, name });
  } else {
    const contents =
      "import { runFromProcess } from './cli/main';\n" +
      'runFromProcess().then((code) => {\n  process.exitCode = code;\n});\n';
    await buildServer({ contents, outDir, name });
    // With OVERSEER_GATEWAY_THREAD=on, `serve --role all` runs its gateway on a worker thread (actors/gateway-thread.ts)
    // from a bundle of its own: the gateway's part of the program (a quarter of the whole), loaded beside the restore.
    const thread = "import { runGatewayThread } from './actors/gateway-thread';\nrunGatewayThread();\n";
    await buildServer({ contents: thread, outDir, name: GATEWAY_THREAD_ENTRY });
  }
}
