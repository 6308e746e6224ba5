// NATS request/reply with and without patches/@nats-io+nats-core+3.3.1.patch, side by side in one run (issue 14).
// nats.js 3.3.1 ends every answered request by calling its own cancel(), which builds a RequestError (an Error, its
// stack captured) to reject a promise already settled; the patch leaves the request table instead. Here both ends
// run in this process over a real nats-server (as `serve --role all`: the gateway requests, the core answers),
// 50 requests in flight, and each round runs the library as patched, then with the unpatched ending put back (the
// same RequestError built and the settled promise rejected again), alternating.
// Printed: CPU µs per request/reply in this process and requests/s, per round; the ratio of the medians.
// Run: node --import tsx bench/nats-request.ts [requests per round = 100000] [rounds = 3]
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { findFreePort, spawnNatsServer } from '../adapters/nats';

const requests = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 3);
if (!(requests > 0) || !(rounds > 0)) throw new Error('usage: bench/nats-request.ts [requests] [rounds]');
const IN_FLIGHT = 50;

// The modules the client loaded (request.js reads RequestError from errors.js at call time).
const natsRequire = createRequire(createRequire(import.meta.url).resolve('@nats-io/nats-core'));
const { RequestOne } = natsRequire('./request.js') as {
  RequestOne: { prototype: { resolver(err: unknown, msg: unknown): void } };
};
const { RequestError } = natsRequire('./errors.js') as { RequestError: new (message: string) => Error };
const patched = RequestOne.prototype.resolver;
// What 3.3.1's resolver did after settling: cancel() — the timer and table again, then a new RequestError rejecting
// the settled promise.
function unpatched(this: { deferred: { reject(e: unknown): void } }, err: unknown, msg: unknown): void {
  patched.call(this, err, msg);
  this.deferred.reject(new RequestError('cancelled'));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const dir = mkdtempSync(join(tmpdir(), 'overseer-bench-nats-request-'));
const server = await spawnNatsServer({ port: await findFreePort(), storeDir: join(dir, 'nats') });
const requester = await connect({ servers: server.url, noAsyncTraces: true });
const responder = await connect({ servers: server.url, noAsyncTraces: true });
try {
  const sub = responder.subscribe('bench.req');
  (async () => {
    for await (const m of sub) m.respond(m.data);
  })();
  await responder.flush();
  const body = new TextEncoder().encode(JSON.stringify({ action: 'destroy', target: 'bench/101' }));
  const run = async (n: number) => {
    for (let i = 0; i < n; i += IN_FLIGHT) {
      await Promise.all(
        Array.from({ length: IN_FLIGHT }, () => requester.request('bench.req', body, { timeout: 5000 })),
      );
    }
  };
  const measure = async (resolver: typeof patched) => {
    RequestOne.prototype.resolver = resolver;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await run(requests);
    const c = process.cpuUsage(c0);
    return { cpuUs: (c.user + c.system) / requests, perSecond: requests / ((performance.now() - t0) / 1000) };
  };
  await measure(patched);
  await measure(unpatched);
  const results = { patched: [] as number[], unpatched: [] as number[] };
  console.log(`Command: node --import tsx bench/nats-request.ts ${requests} ${rounds}`);
  console.log(
    `(${IN_FLIGHT} requests in flight, both ends in this process, nats-server ${server.url}; Node ${process.version})`,
  );
  console.log('');
  console.log('| round | nats.js | CPU µs per request | requests/s |');
  console.log('|---:|---|---:|---:|');
  for (let round = 1; round <= rounds; round++) {
    for (const [name, resolver] of [
      ['unpatched', unpatched],
      ['patched', patched],
    ] as const) {
      const r = await measure(resolver);
      results[name].push(r.cpuUs);
      console.log(`| ${round} | ${name} | ${r.cpuUs.toFixed(1)} | ${r.perSecond.toFixed(0)} |`);
    }
  }
  const ratio = median(results.patched) / median(results.unpatched);
  console.log('');
  console.log(
    `Median CPU per request: patched ${median(results.patched).toFixed(1)} µs, unpatched ${median(results.unpatched).toFixed(1)} µs (${ratio.toFixed(2)}×)`,
  );
} finally {
  RequestOne.prototype.resolver = patched;
  await requester.close();
  await responder.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
