// A real Overseer process for the crash tests. Modes (argv[2]):
//   populate <config> <db>  runs the core, drives actors into many states, prints `READY <json>`, then keeps
//                           submitting requests until it is killed.
//   inspect  <config> <db>  restores every actor without starting loops and prints `STATE <json>`.
//   resume   <config> <db>  runs the core until every request has ended, then prints `DONE <json>`.

import { loadConfig } from '../../actors/config';
import { Overseer } from '../../actors/overseer';
import { platformsFromConfig } from '../../actors/platforms';
import { SystemClock } from '../../adapters/clock';
import { createLineLog } from '../../adapters/log';
import { StateStore } from '../../state';

const [mode, configPath, dbPath] = process.argv.slice(2);
if (!mode || !configPath || !dbPath) throw new Error('usage: crash-child <mode> <config> <db>');

const clock = new SystemClock();
const log = createLineLog({ clock, write: (line) => process.stderr.write(`${line}\n`), level: 'warn' });
const config = loadConfig(configPath);
const store = StateStore.open(dbPath);
const overseer = new Overseer({
  clock,
  log,
  config,
  store,
  platforms: platformsFromConfig(config.clusters, { clock, log }),
});

const admin = { id: 'alice', role: 'admin' as const };
const second = { id: 'bob', role: 'admin' as const };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function actorStates() {
  const of = (set: Iterable<[string, { getSnapshot(): { value: unknown } }]>) =>
    Object.fromEntries([...set].map(([k, a]) => [k, String(a.getSnapshot().value)]));
  return {
    vms: of(overseer.vms.entries()),
    hosts: of(overseer.hosts.entries()),
    requests: of(overseer.requests.entries()),
  };
}

function requestStatuses() {
  return Object.fromEntries(store.requests.list({ limit: 100_000 }).map((r) => [r.id, r.status]));
}

async function populate() {
  overseer.start();
  while (overseer.vms.size === 0) await sleep(20);
  const ids: Record<string, string> = {};
  const submit = async (name: string, s: Parameters<Overseer['submit']>[0]) => {
    ids[name] = (await overseer.submit(s)).requestId;
  };
  const vm = (vmid: number) => ({ cluster: 'lab', vmid });
  await submit('deniedProduction', { action: 'destroy', target: vm(114), requester: admin });
  await submit('awaiting', { action: 'destroy', target: vm(114), force: true, requester: admin });
  await submit('deniedLocked', { action: 'start', target: vm(113), requester: admin });
  // pve2 runs one request at a time: the stop executes, the start waits in the queue, the other is cancelled.
  await submit('executing', { action: 'stop', target: vm(101), requester: admin });
  await submit('queued', { action: 'start', target: vm(112), requester: admin });
  await submit('cancelled', { action: 'start', target: vm(104), requester: admin });
  overseer.cancel(ids.cancelled as string, admin);
  // pve1: the snapshot completes, then the shutdown executes.
  await submit('completes', { action: 'snapshot', target: vm(103), params: { snapname: 'before' }, requester: admin });
  await submit('executingAfter', { action: 'shutdown', target: vm(100), requester: admin });
  // Wait until the short task completed and the long ones are running.
  const status = (name: string) => store.requests.get(ids[name] as string)?.status;
  for (let i = 0; i < 400 && (status('completes') !== 'completed' || status('executingAfter') !== 'executing'); i++) {
    await sleep(25);
  }
  process.stdout.write(
    `READY ${JSON.stringify({ ids, requests: requestStatuses(), actors: actorStates(), audit: store.audit.head() })}\n`,
  );
  // Keep writing until killed: submissions, decisions, approvals.
  for (let n = 0; ; n++) {
    const r = await overseer.submit({
      action: 'destroy',
      target: vm(114),
      force: true,
      requester: n % 2 ? admin : second,
    });
    if (r.decision === 'awaiting_approval') overseer.deny(r.requestId, admin, 'load');
    await sleep(1);
  }
}

function inspect() {
  const restored = overseer.restore();
  const consistency: string[] = [];
  for (const r of store.requests.list({ limit: 100_000 })) {
    const last = r.history.at(-1);
    if (last?.status !== r.status) consistency.push(`${r.id}: row ${r.status}, history ends ${last?.status}`);
    const snap = store.snapshots.get(`req:${r.id}`) as { snapshot?: { value?: string } } | undefined;
    const snapValue = snap?.snapshot?.value;
    if (snapValue !== undefined && snapValue !== r.status)
      consistency.push(`${r.id}: row ${r.status}, snapshot ${snapValue}`);
  }
  process.stdout.write(
    `STATE ${JSON.stringify({ restored, actors: actorStates(), requests: requestStatuses(), audit: store.audit.verify(), consistency })}\n`,
  );
  overseer.stop();
  store.close();
  process.exit(0);
}

async function resume() {
  overseer.start();
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const open = store.requests.listActive().filter((r) => r.status !== 'awaiting_approval');
    if (open.length === 0) break;
    await sleep(50);
  }
  process.stdout.write(`DONE ${JSON.stringify({ requests: requestStatuses(), audit: store.audit.verify() })}\n`);
  overseer.stop();
  store.close();
  process.exit(0);
}

if (mode === 'populate') void populate();
else if (mode === 'inspect') inspect();
else if (mode === 'resume') void resume();
else throw new Error(`unknown mode ${mode}`);
