// Issue 12 acceptance: an Overseer process SIGKILLed in the middle of a 20-VM lab apply brings the lab to ready after
// a restart with every member cloned exactly once. The simulator runs here (its state and operation log outlive the
// core); the Overseer runs as a real child process (node + tsx) against it over HTTPS (tests/platform/runtime-child).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LabMemberRef } from '../../state';
import type { Child } from '../helpers/child';
import { runTs } from '../helpers/child';
import type { PlatformSim } from './helpers';
import { stackConfig, startPlatformSim, until } from './helpers';

const CHILD = join(import.meta.dirname, 'runtime-child.ts');
const LAB = 'crash20';
const WEB = 18;

/** One router, a db behind it, 18 web servers behind that: three clone waves, 20 members, 256 MiB each. */
const LAB_FILE = `name: ${LAB}
cluster: lab
vms:
  - name: router
    template: debian-12-template
    memory: 256M
  - name: db
    template: debian-12-template
    memory: 256M
    dependsOn: [router]
  - name: web
    template: debian-12-template
    count: ${WEB}
    memory: 256M
    dependsOn: [db]
policy:
  parallelism: 4
`;
const MEMBERS = ['router', 'db', ...Array.from({ length: WEB }, (_, i) => `web-${i + 1}`)];

interface LabDone {
  name: string;
  status: string;
  members: Record<string, LabMemberRef>;
  error?: string;
  requests: { id: string; action: string; status: string; error?: string }[];
}
interface Done {
  restored: { labs?: number; requests: number };
  labs: LabDone[];
}

let platform: PlatformSim;
let dir: string;
let configPath: string;
let dbPath: string;
let labPath: string;
const children: Child[] = [];

beforeEach(async () => {
  // Clones long enough that the kill lands among them (two at once on pve1, the template's node).
  platform = await startPlatformSim({ taskDurations: { qmclone: 800, qmconfig: 200 } });
  dir = mkdtempSync(join(tmpdir(), 'overseer-platform-lab-crash-'));
  configPath = join(dir, 'overseer.json');
  // 20 guests in one lab: above the default mass-operation limit of 10, which would ask for an approval.
  const config = stackConfig(platform.clusterConfig, { gate: { massOperation: { maxVmsPerRequest: 25 } } });
  writeFileSync(configPath, JSON.stringify(config));
  dbPath = join(dir, 'overseer.db');
  labPath = join(dir, `${LAB}.yaml`);
  writeFileSync(labPath, LAB_FILE);
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.proc.exitCode === null) child.proc.kill('SIGKILL');
  await platform?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function spawn(args: string[]): Child {
  const child = runTs(CHILD, args);
  children.push(child);
  return child;
}

/** `work`, or an error naming `what` after `ms`. */
async function within<T>(ms: number, work: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} was not reached within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, late]);
  } finally {
    clearTimeout(timer);
  }
}

const clones = (result: 'started' | 'OK') =>
  platform.sim.oplog.filter((e) => e.op === 'clone' && e.result === result && e.vmid === 9000);

interface AtKill {
  /** Clones done and clones accepted by the simulator when the core was killed. */
  ok: number;
  started: number;
}
const countsNow = (): AtKill => ({ ok: clones('OK').length, started: clones('started').length });

/** Kills the applying core at a chosen moment once `killAfter` clones are done; the clone counts at that moment. */
type KillPoint = (applier: Child, killAfter: number) => Promise<AtKill>;

/** While a clone runs whose UPID the core has recorded (or is about to poll). */
const whileCloning: KillPoint = async (applier, killAfter) => {
  await until(
    () => clones('OK').length >= killAfter && clones('started').length > clones('OK').length,
    60_000,
    () => `${killAfter} clones to complete and one to run (${clones('OK').length} did)`,
  );
  // Nothing of the simulator's runs between the check and the kill: a clone is running when the core dies.
  applier.proc.kill('SIGKILL');
  return countsNow();
};

/** The instant PVE accepted a clone: the core never learns its UPID, the restart has to adopt it. */
const asCloneAccepted: KillPoint = async (applier, killAfter) => {
  const oplog = platform.sim.oplog;
  const push = oplog.push.bind(oplog);
  let atKill: AtKill | undefined;
  oplog.push = (...entries) => {
    const accepted = entries.some((e) => e.op === 'clone' && e.result === 'started');
    if (accepted && !atKill && clones('OK').length >= killAfter) {
      applier.proc.kill('SIGKILL');
      atKill = { ok: clones('OK').length, started: clones('started').length + 1 };
    }
    return push(...entries);
  };
  await applier.exited;
  oplog.push = push;
  return atKill ?? countsNow();
};

describe('platform lab crash', () => {
  it.each([
    ['while clones run', whileCloning],
    ['the instant PVE accepted a clone', asCloneAccepted],
  ])(
    'platform - SIGKILL %s in a 20-VM lab apply: the restart brings the lab to ready, each member cloned once',
    async (_, killPoint) => {
      const began = Date.now();
      const applier = spawn(['lab', configPath, dbPath, labPath]);
      const applied = await applier.line<{ name: string; status: string }>('LAB', 20_000);
      expect(applied).toMatchObject({ name: LAB });
      expect(['networks', 'cloning']).toContain(applied.status);

      // In the web wave: at least 5 of the 20 clones done.
      const atKill = await within(60_000, killPoint(applier, 5 + Math.floor(Math.random() * 6)), 'the kill point');
      expect(await applier.exited).toBeNull();
      expect(atKill.started, 'a clone runs at the kill').toBeGreaterThan(atKill.ok);

      const resumer = spawn(['resume', configPath, dbPath, '100']);
      // The restart's warnings (adoptions, clones found done, VMID races), whole: the child keeps only a tail.
      const warnings: string[] = [];
      createInterface({ input: resumer.proc.stderr! }).on('line', (l) => {
        if (/ (warn|error): /.test(l)) warnings.push(l);
      });
      const done = await resumer.line<Done>('DONE', 120_000);
      expect(await resumer.exited).toBe(0);
      const at = `killed after ${atKill.ok} clones done, ${atKill.started} started; restart warnings:\n${warnings.join('\n')}`;
      expect(done.restored.labs, at).toBe(1);
      const lab = done.labs.find((l) => l.name === LAB);
      expect(lab, `${at}\nlab error: ${lab?.error}`).toMatchObject({ status: 'ready' });
      if (!lab) return;

      // The platform: one successful clone of the template per member, named for it. A clone issued again after
      // the restart may find its VMID taken by another member's clone: that task fails and creates nothing.
      const okNames = clones('OK').map((e) => e.detail?.name as string);
      expect(okNames.sort(), at).toEqual(MEMBERS.map((m) => `${LAB}-${m}`).sort());
      const failed = platform.sim.oplog.filter((e) => e.op === 'clone' && e.result !== 'started' && e.result !== 'OK');
      for (const e of failed) expect(e.result, at).toMatch(/config file already exists|File exists/);
      expect(clones('started'), at).toHaveLength(MEMBERS.length + failed.length);
      const guests = [...platform.sim.state.vms.values()].filter((vm) => vm.name.startsWith(`${LAB}-`));
      expect(guests.map((vm) => vm.name).sort()).toEqual(okNames);
      expect(new Set(guests.map((vm) => vm.vmid)).size).toBe(MEMBERS.length);
      for (const vm of guests) expect(vm, vm.name).toMatchObject({ status: 'running', lock: undefined });

      // The lab's record: every member ready, on the VM its one clone made.
      const vmidOf = new Map(clones('OK').map((e) => [e.detail?.name as string, e.detail?.newid as number]));
      expect(Object.keys(lab.members).sort()).toEqual([...MEMBERS].sort());
      for (const member of MEMBERS) {
        expect(lab.members[member], member).toMatchObject({ phase: 'ready', vmid: vmidOf.get(`${LAB}-${member}`) });
      }

      // The lab's requests: one clone, one configure and one start request per member, each completed.
      const cloneRequests = lab.requests.filter((r) => r.action === 'deploy');
      // Ids are `lab-<cluster>-<lab>.<its first submission>-<generation>-clone-<member>`.
      const withoutInstance = (id: string) => id.replace(new RegExp(`^(lab-lab-${LAB})\\.[0-9a-z]+-`), '$1-');
      expect(cloneRequests.map((r) => [withoutInstance(r.id), r.status]).sort()).toEqual(
        MEMBERS.map((m) => [`lab-lab-${LAB}-0-clone-${m}`, 'completed']).sort(),
      );
      for (const action of ['configure', 'start']) {
        const requests = lab.requests.filter((r) => r.action === action);
        expect(
          requests.map((r) => r.status),
          action,
        ).toEqual(MEMBERS.map(() => 'completed'));
      }
      console.info(
        `lab crash: killed after ${atKill.ok}/${MEMBERS.length} clones done (${atKill.started} started); ` +
          `ready ${Date.now() - began} ms after the apply began`,
      );
    },
    160_000,
  );
});
