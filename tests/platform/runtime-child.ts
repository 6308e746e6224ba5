// A real Overseer process for the SIGKILL tests. Modes (argv[2]):
//   deploy <config> <db>  starts the runtime and submits a deploy of one clone of template 9000 (name 'survivor',
//                         onto pve3); prints `TASK <json>` once the clone's task id is recorded, then runs on
//                         until it is killed.
//   stop   <config> <db>  the same with a stop of VM 101.
//   bulk   <config> <db>  the same with a snapshot of `@tag:db` (a bulk request: one child request per member);
//                         `TASK` once a member's task id is recorded.
//   lab    <config> <db> <lab file>  starts the runtime and applies the lab file as alice; prints `LAB <json>`
//                         (the apply's answer: the lab's name and status) and runs on until it is killed.
//   resume <config> <db> [seconds]  starts the runtime (restoring the requests and labs), waits (15 s unless
//                         told) until every request has ended and every live lab is ready or failed, syncs once,
//                         prints `DONE <json>` (with each lab's record and its requests) and exits.

import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { loadConfig } from '../../actors/config';
import type { Submission } from '../../actors/overseer';
import { Overseer } from '../../actors/overseer';
import { platformsFromConfig } from '../../actors/platforms';
import { SystemClock } from '../../adapters/clock';
import { createLineLog } from '../../adapters/log';
import { closePlatforms } from '../../adapters/proxmox';
import { StateStore } from '../../state';

const [mode, configPath, dbPath, extra] = process.argv.slice(2);
if (!mode || !configPath || !dbPath) throw new Error('usage: runtime-child <mode> <config> <db>');

const clock = new SystemClock();
const log = createLineLog({ clock, write: (line) => process.stderr.write(`${line}\n`), level: 'info' });
const config = loadConfig(configPath);
const store = StateStore.open(dbPath);
const platforms = platformsFromConfig(config.clusters, { clock, log });
const overseer = new Overseer({ clock, log, config, store, platforms });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const requester = { id: 'alice', role: 'admin' as const };

const SUBMISSIONS: Record<string, Omit<Submission, 'requester'>> = {
  deploy: { action: 'deploy', target: { cluster: 'lab' }, params: { template: 9000, node: 'pve3', name: 'survivor' } },
  stop: { action: 'stop', target: { cluster: 'lab', vmid: 101 } },
  bulk: { action: 'snapshot', target: { cluster: 'lab', selector: '@tag:db' }, params: { snapname: 'survivor' } },
};

async function submit(submission: Omit<Submission, 'requester'>) {
  overseer.start();
  while (overseer.vms.size === 0) await sleep(20);
  const r = await overseer.submit({ ...submission, requester });
  for (;;) {
    const record = store.requests.get(r.requestId);
    const running = record && ['approved', 'queued', 'executing'].includes(record.status);
    const tasks = [record, ...store.requests.list({ parent: r.requestId })].flatMap((x) => x?.taskIds ?? []);
    if (record && (tasks.length > 0 || !running)) {
      const { id, status, error } = record;
      process.stdout.write(`TASK ${JSON.stringify({ id, status, tasks, error })}\n`);
      break;
    }
    await sleep(5);
  }
  // Keep running until killed.
  setInterval(() => {}, 1_000);
}

async function applyLab(labFile: string) {
  overseer.start();
  while (overseer.vms.size === 0) await sleep(20);
  const view = await overseer.labService.apply(readFileSync(labFile, 'utf8'), basename(labFile), requester);
  process.stdout.write(`LAB ${JSON.stringify({ name: view.name, status: view.status })}\n`);
  setInterval(() => {}, 1_000);
}

/** Every request has ended and every live lab is at rest. */
const settled = () =>
  store.requests.listActive().length === 0 && store.labs.live().every((l) => ['ready', 'failed'].includes(l.status));

async function resume() {
  const restored = overseer.restore();
  overseer.startRoot();
  const deadline = Date.now() + Number(extra ?? 15) * 1000;
  while (Date.now() < deadline && !settled()) await sleep(50);
  await overseer.syncAll().catch(() => {});
  const requests = store.requests
    .list({ limit: 10 })
    .map((r) => ({ id: r.id, status: r.status, error: r.error, parent: r.parent }));
  const survivor = [...overseer.vms.entries()].find(([, a]) => a.getSnapshot().context.info.name === 'survivor');
  const vmid = survivor?.[1].getSnapshot().context.info.vmid;
  const labs = store.labs.list({}).map(({ name, status, members, error }) => {
    const children = store.requests.list({ parent: `lab:lab/${name}` });
    const labRequests = children.map((r) => ({ id: r.id, action: r.action, status: r.status, error: r.error }));
    return { name, status, members, error, requests: labRequests };
  });
  process.stdout.write(`DONE ${JSON.stringify({ restored, requests, vmid, labs })}\n`);
  overseer.stop();
  store.close();
  await closePlatforms(platforms.values());
  process.exit(0);
}

const submission = SUBMISSIONS[mode];
if (submission) void submit(submission);
else if (mode === 'lab' && extra) void applyLab(extra);
else if (mode === 'resume') void resume();
else throw new Error(`unknown mode ${mode}`);
