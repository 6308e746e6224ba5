// Scenario tests in the style of Proxmox's HA regression tests: a folder with a README, a seed, a command list
// and an expected log. The whole stack runs on one simulated clock — the PVE simulator over HTTP, the Proxmox
// adapter, the Overseer runtime with its loops — and the log of state changes is diffed against expected.log.
//
// commands (one per line, '#' starts a comment):
//   delay <seconds>                      let time pass (every timer fires in order, the stack settles between)
//   vm <vmid> crash                      the VM stops with no task (simulator fault)
//   vm <vmid> lock <lock|none>           set or clear a PVE lock
//   vm <vmid> stop|shutdown|start by <who>  a person acting through the PVE API behind Overseer's back: <who> is a
//                                        PVE user (root@pam: a ticket, as the web UI) or an API token id
//   node <node> offline|online           the node drops out of / returns to the cluster
//   quorum lost|ok
//   tasks fail <type> <count> <message>  the next <count> tasks of <type> fail with <message>
//   submit <action> <vmid|-|@selector|node> [force] [dry-run] [as <user>] [param=value ...]
//                                        ("param=a value" keeps its spaces; a node for drain and undrain; a bulk
//                                        request's members are printed on a line of their own)
//   approve|deny|cancel <request> [as <user>]
//   parallel <command> | <command> ...   the commands at once (e.g. two submissions racing)
//   barrier nextid <n>                   the next <n> reads of /cluster/nextid all answer before any caller goes on
//                                        (so that <n> deploys racing for a VMID all read the same one, as they can
//                                        on a busy cluster: PVE's nextid reserves nothing)
//   steal nextid                         the next VMID read from /cluster/nextid is taken by someone else (a guest
//                                        'elsewhere' appears at it) before Overseer's clone is issued
//   oplog                                every platform operation the simulator carried out so far
//   show <request>                       a request's status and error
//   request <request>                    print the request's status and its reasons or error
//   audit <kind>                         print the audit rows of that kind (their data)
//   file <name>                          print whether {{tmp}}/<name> exists (what a command on the sshd did)
//   maintenance start|end|list ..., silence add|remove ...   see tests/scenarios/maintenance-commands.ts
//   lab apply|approve|deny|destroy|snapshot|revert|show ...  see tests/scenarios/lab-commands.ts
// Request ids are r1, r2, ... in submission order. Users: alice, bob (admins), olga (operator), overseer (its own).
//
// SSH: the VMs a seed lists under `sshd` (`<cluster>/<vmid>`) get an SSH target (ssh.targets) on a real OpenSSH
// sshd on 127.0.0.1 started for the scenario (tests/helpers/sshd.ts), its host key pinned. `{{tmp}}` in the config
// and the commands is a temp dir of the scenario (printed as `{{tmp}}`), so a command run there can be seen.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Overseer } from '../../actors/overseer';
import type { Platform } from '../../adapters/platform/types';
import type { SimSeed, Simulator, SimVmSeed } from '../../adapters/pve-sim';
import { demoSeed } from '../../adapters/pve-sim';
import { makeVm } from '../../adapters/pve-sim/state';
import type { Action, Requester, RequestTarget } from '../../machines/types';
import { OVERSEER_IDENTITY } from '../../machines/types';
import type { StateStore } from '../../state';
import { powerAs } from '../helpers/pve-operator';
import { createSimStack } from '../helpers/sim-stack';
import type { TestSshd } from '../helpers/sshd';
import { startSshd } from '../helpers/sshd';
import { scenarioLab } from './lab-commands';
import { scenarioMaintenance } from './maintenance-commands';

const USERS: Record<string, Requester> = {
  alice: { id: 'alice', role: 'admin' },
  bob: { id: 'bob', role: 'admin' },
  olga: { id: 'olga', role: 'operator' },
  // The Overseer's own identity, as its remediation requests carry it.
  overseer: OVERSEER_IDENTITY,
};

export interface ScenarioSetup {
  /** Overrides for the Overseer config. */
  config?: Record<string, unknown>;
  /** Milliseconds per simulator task type. */
  taskDurations?: Record<string, number>;
  /** VMs (`<cluster>/<vmid>`) whose guest is the scenario's sshd. */
  sshd?: string[];
  /** Also log warnings (default: errors only, besides state changes and notifications). */
  logLevel?: 'warn' | undefined;
  /** Changes to the demo seed: guests added to it (or replacing the seeded guest of the same VMID). */
  seed?: { guests?: SimVmSeed[] } | undefined;
}

/** The demo cluster with the scenario's changes. */
function scenarioSeed(setup: ScenarioSetup): SimSeed {
  const seed = demoSeed();
  const extra = setup.seed?.guests ?? [];
  const replaced = new Set(extra.map((g) => g.vmid));
  return { ...seed, vms: [...seed.vms.filter((v) => !replaced.has(v.vmid)), ...extra] };
}

const TMP = '{{tmp}}';

/** A submit command's target word: `-` (the cluster), a VMID, a selector (`@tag:web,-105`), or a drain's node. */
function scenarioTarget(action: Action, word: string | undefined): RequestTarget {
  if (word === undefined || word === '-' || word.includes('=')) return { cluster: 'lab' };
  if (word.startsWith('@')) return { cluster: 'lab', selector: word };
  if (action === 'drain' || action === 'undrain') return { cluster: 'lab', node: word };
  return { cluster: 'lab', vmid: Number(word) };
}

/** Makes the next `count` nextId reads of cluster 'lab' wait for each other before they answer. */
function nextIdBarrier(overseer: Overseer, count: number): void {
  const platform = overseer.platforms.get('lab') as Platform;
  const read = platform.nextId.bind(platform);
  const waiting: (() => void)[] = [];
  let left = count;
  platform.nextId = async () => {
    const id = await read();
    if (left <= 0) return id;
    left--;
    await new Promise<void>((release) => {
      waiting.push(release);
      if (waiting.length === count) for (const go of waiting) go();
    });
    return id;
  };
}

/**
 * Makes the next nextId read of cluster 'lab' answer an id that someone else (another process, a person) takes at
 * once: a guest `elsewhere` appears at that VMID before Overseer's clone is issued.
 */
function stealNextId(overseer: Overseer, sim: Simulator, clock: { now(): number }): void {
  const platform = overseer.platforms.get('lab') as Platform;
  const read = platform.nextId.bind(platform);
  platform.nextId = async () => {
    platform.nextId = read;
    const id = await read();
    const seed = { vmid: id, name: 'elsewhere', node: 'pve1', status: 'stopped' as const, cores: 1 };
    sim.state.vms.set(id, makeVm({ ...seed, maxmem: 1024 ** 3, maxdisk: 8 * 1024 ** 3 }, clock.now()));
    return id;
  };
}

/** Splits a command line into words; a double-quoted part keeps its spaces (the quotes are dropped). */
function words(line: string): string[] {
  return (line.match(/(?:[^\s"]+|"[^"]*")+/g) ?? []).map((w) => w.replace(/"/g, ''));
}

/** The config with the scenario's SSH targets added (all on the one sshd). */
function withSshTargets(config: Record<string, unknown>, vms: string[], sshd: TestSshd): Record<string, unknown> {
  const ssh = (config.ssh ?? {}) as Record<string, unknown>;
  const targets = vms.map((vm) => ({
    vm,
    host: sshd.host,
    port: sshd.port,
    username: sshd.username,
    privateKeyFile: join(sshd.dir, 'client'),
    hostKey: sshd.hostKeyFingerprint,
  }));
  return { ...config, ssh: { ...ssh, targets: [...((ssh.targets as unknown[]) ?? []), ...targets] } };
}

export interface ScenarioRun {
  log: string;
  overseer: Overseer;
  sim: Simulator;
  store: StateStore;
}

export async function runScenario(dir: string): Promise<ScenarioRun & { cleanup(): Promise<void> }> {
  const setup: ScenarioSetup = existsSync(join(dir, 'seed.json'))
    ? (JSON.parse(readFileSync(join(dir, 'seed.json'), 'utf8')) as ScenarioSetup)
    : {};
  const commands = readFileSync(join(dir, 'commands'), 'utf8')
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);

  const work = mkdtempSync(join(tmpdir(), 'overseer-scenario-'));
  const sshd = setup.sshd && setup.sshd.length > 0 ? await startSshd() : undefined;
  const untmp = (text: string) => text.split(work).join(TMP);
  const stop = async () => {
    await sshd?.stop();
    rmSync(work, { recursive: true, force: true });
  };
  let config = setup.config;
  if (config) config = JSON.parse(JSON.stringify(config).split(TMP).join(work)) as Record<string, unknown>;
  if (sshd) config = withSshTargets(config ?? {}, setup.sshd ?? [], sshd);

  // The whole stack on one simulated clock (the demo cluster 'lab'); see tests/helpers/sim-stack.ts.
  let stack: Awaited<ReturnType<typeof createSimStack>>;
  try {
    stack = await createSimStack({
      config,
      taskDurations: setup.taskDurations,
      seed: scenarioSeed(setup),
      logLevel: setup.logLevel,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const { overseer, sim, store, lines, stamp, settle, advance } = stack;
  const maintenance = scenarioMaintenance({ store, clock: stack.clock, view: overseer.view });

  overseer.start();
  await settle();
  for (const command of commands) {
    lines.push(`${stamp()} # ${command}`);
    await execute(words(command.split(TMP).join(work)));
    await settle();
  }

  async function execute(words: string[]): Promise<void> {
    const [verb, a, b, ...rest] = words;
    if (verb === 'parallel') {
      const parts: string[][] = [[]];
      for (const w of words.slice(1)) {
        if (w === '|') parts.push([]);
        else parts[parts.length - 1]?.push(w);
      }
      await Promise.all(parts.map((part) => execute(part)));
      return;
    }
    const as = (list: string[]) => {
      const i = list.indexOf('as');
      return USERS[i >= 0 ? (list[i + 1] ?? 'alice') : 'alice'] as Requester;
    };
    switch (verb) {
      case 'delay':
        return advance(Number(a) * 1000);
      case 'vm':
        if (b === 'crash') return sim.faults.crashVm(Number(a));
        if (b === 'lock') return sim.faults.lockVm(Number(a), rest[0] === 'none' ? null : (rest[0] ?? null));
        if ((b === 'stop' || b === 'shutdown' || b === 'start') && rest[0] === 'by' && rest[1]) {
          const upid = await powerAs(sim, rest[1], Number(a), b);
          lines.push(`${stamp()} = vm ${a} ${b} by ${rest[1]}: task ${upid.split(':')[5]}`);
          return;
        }
        break;
      case 'node':
        return sim.faults.nodeOffline(a as string, b === 'offline');
      case 'quorum':
        return sim.faults.quorumLoss(a === 'lost');
      case 'show': {
        const record = store.requests.get(a as string);
        lines.push(`${stamp()} = ${a} ${record?.status ?? 'unknown'}${record?.error ? `: ${record.error}` : ''}`);
        return;
      }
      case 'oplog': {
        const ops = sim.oplog.filter((e) => e.op !== 'crash' && e.result !== 'started');
        lines.push(`${stamp()} = oplog: ${ops.map((e) => `${e.op} ${e.vmid} ${e.result}`).join(', ') || 'none'}`);
        return;
      }
      case 'barrier':
        if (a === 'nextid') return nextIdBarrier(overseer, Number(b));
        break;
      case 'steal':
        if (a === 'nextid') return stealNextId(overseer, sim, stack.clock);
        break;
      case 'tasks':
        if (a === 'fail') return sim.faults.failTasks(b as string, Number(rest[0]), rest.slice(1).join(' '));
        break;
      case 'submit': {
        const params: Record<string, unknown> = {};
        for (const w of [b, ...rest]) {
          const m = /^(\w+)=(.*)$/.exec(w ?? '');
          if (m) params[m[1] as string] = /^\d+$/.test(m[2] as string) ? Number(m[2]) : m[2];
        }
        const result = await overseer.submit({
          action: a as Action,
          target: scenarioTarget(a as Action, b),
          params,
          force: words.includes('force'),
          dryRun: words.includes('dry-run'),
          requester: as(words),
        });
        const id = result.dryRun ? 'dry-run' : result.requestId;
        lines.push(`${stamp()} = ${id} ${result.decision}: ${untmp(result.reasons.join('; ')) || 'all checks passed'}`);
        if (result.members) {
          const members = result.members.map((m) => `${m.vmid}${m.params.target ? `→${m.params.target}` : ''}`);
          lines.push(`${stamp()} = ${id} members: ${members.join(', ') || 'none'}`);
        }
        const advice = result.checks.find((c) => c.check === 'knowledge' && c.reason.includes('warning'));
        if (advice) lines.push(`${stamp()} = ${result.requestId} knowledge: ${advice.reason}`);
        return;
      }
      case 'request': {
        const record = store.requests.get(a as string);
        const why = record?.error ?? record?.reasons.join('; ');
        lines.push(`${stamp()} = ${a} ${record ? record.status : 'unknown'}${why ? `: ${untmp(why)}` : ''}`);
        return;
      }
      case 'audit':
        for (const row of store.audit.list({ kind: a as string })) {
          lines.push(`${stamp()} = audit ${row.kind} ${untmp(JSON.stringify(row.data))}`);
        }
        return;
      case 'lab':
        try {
          for (const line of await scenarioLab(overseer, dir, [a ?? '', b ?? '', ...rest], as(words))) {
            lines.push(`${stamp()} = ${line}`);
          }
        } catch (error) {
          lines.push(`${stamp()} = lab ${a} refused: ${(error as Error).message}`);
        }
        return;
      case 'maintenance':
      case 'silence':
        lines.push(`${stamp()} = ${await maintenance(words, as(words))}`);
        return;
      case 'file':
        lines.push(`${stamp()} = file ${TMP}/${a}: ${existsSync(join(work, a as string)) ? 'present' : 'absent'}`);
        return;
      case 'approve':
      case 'deny':
      case 'cancel': {
        const result = overseer[verb](a as string, as(words));
        lines.push(`${stamp()} = ${verb} ${a}: ${result.ok ? result.status : result.reason}`);
        return;
      }
    }
    throw new Error(`unknown scenario command: ${words.join(' ')}`);
  }

  return {
    log: `${lines.join('\n')}\n`,
    overseer,
    sim,
    store,
    cleanup: async () => {
      await stack.cleanup();
      await stop();
    },
  };
}
