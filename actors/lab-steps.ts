// The lab actor's platform steps (machines/lab.machine.ts names them; here they are supplied). Guest work runs as
// requests of the lab (lab-children.ts) through the gate and the executor; the lab's networks, its pool and each
// member's settings are made here, each call first looking whether its effect is already there (a step run again
// after a restart does nothing twice). A platform error is an error: never read as "it is gone".
import { createConnection } from 'node:net';
import { fromPromise } from 'xstate';
import type { Clock } from '../adapters/clock';
import type { Log } from '../adapters/log';
import type { Platform } from '../adapters/platform/types';
import type { LabInventory, LabPlan, LabPlanItem, MemberStatusOf } from '../machines/lab';
import { guestName, labActual, planLab, validateLab } from '../machines/lab';
import type {
  CloneMemberInput,
  CloneMemberOutput,
  ConfigureMemberInput,
  ConfigureMemberOutput,
  CreatedItem,
  CreatedOutput,
  CreateNetworksInput,
  LabGateInput,
  LabStepBase,
  MemberStepInput,
  PlanInput,
  RemoveCreatedInput,
  SnapshotMembersInput,
  SnapshotMembersOutput,
  StartMemberInput,
  WaitReadyOutput,
} from '../machines/lab.machine';
import { LabStepError } from '../machines/lab.machine';
import type { GateResult, Requester, RequestSpec } from '../machines/types';
import { vmKey } from '../machines/types';
import type { LabRequestHost } from './lab-children';
import { clonedVmid, cloneParams, configureParams, labRequestId, labRequestSpec, runLabRequest } from './lab-children';
import type { SystemView } from './system-view';

export interface LabStepDeps {
  clock: Clock;
  log: Log;
  view: SystemView;
  platforms: ReadonlyMap<string, Platform>;
  requests: LabRequestHost;
  /** Resolves once every actor is restored: a restored lab's steps wait for it before looking at requests. */
  ready: () => Promise<void>;
  /** The cluster as lab validation sees it (guests, nodes, SDN objects, the other labs' networks). */
  inventory: (cluster: string, platform: Platform, lab: string) => Promise<LabInventory>;
  /** The lab gate's decision on a plan (audited by the caller). */
  decide: (input: LabGateInput) => Promise<GateResult>;
  /** Who the lab's requests are made as (the lab's requester, or the Overseer for its own repairs). */
  requesterOf: (cluster: string, lab: string) => Requester;
  /** Runs a probe command on a guest over SSH (exit code); absent: SSH probes fail. */
  sshProbe?: ((key: string, command: string) => Promise<number>) | undefined;
  /** How often a readiness probe is tried. */
  probeIntervalMs: number;
  /** Appends an audit row as the Overseer (what a lab's own steps did to the cluster's networks and pools). */
  audit: (kind: string, data: Record<string, unknown>) => void;
}

const labParent = (cluster: string, lab: string): string => `lab:${cluster}/${lab}`;

function platformOf(deps: LabStepDeps, cluster: string): Platform {
  const platform = deps.platforms.get(cluster);
  if (!platform) throw new LabStepError(`no platform is configured for cluster ${cluster}`);
  return platform;
}

/** A request of the lab for one step. */
function stepRequest(
  deps: LabStepDeps,
  input: { lab: string; cluster: string; key: string },
  action: RequestSpec['action'],
  vmid: number | undefined,
  params: Record<string, unknown> = {},
  idVmid?: number,
): RequestSpec {
  const { lab, cluster, key } = input;
  return labRequestSpec(
    labParent(cluster, lab),
    labRequestId(cluster, key, idVmid),
    deps.requesterOf(cluster, lab),
    deps.clock.now(),
    cluster,
    action,
    vmid,
    params,
  );
}

/** The plan: the file checked against the cluster as it is now, and compared with what the lab made. */
async function plan(deps: LabStepDeps, input: PlanInput): Promise<LabPlan> {
  const { spec } = input;
  const platform = platformOf(deps, spec.cluster);
  const statusOf: MemberStatusOf = ({ vmid }) => {
    if (vmid === undefined) return 'missing';
    return deps.view.vms.get(vmKey(spec.cluster, vmid))?.status ?? 'missing';
  };
  const actual = labActual(spec, input.members, input.created, statusOf);
  const inventory = await deps.inventory(spec.cluster, platform, spec.name);
  const checked = validateLab(spec, inventory, actual);
  if (!checked.resolved) return { lab: spec.name, cluster: spec.cluster, items: [], issues: checked.issues };
  return planLab(checked.resolved, actual);
}

/** The lab's pool and networks, in the plan's order; each made only when it is not already there. */
async function createNetworks(deps: LabStepDeps, input: CreateNetworksInput): Promise<CreatedOutput> {
  const platform = platformOf(deps, input.cluster);
  const created: CreatedItem[] = [];
  try {
    for (const item of input.items) await createNetwork(deps, platform, item, created);
  } catch (error) {
    throw new LabStepError(`lab ${input.lab}: ${(error as Error).message}`, { cause: error, created });
  } finally {
    auditNetworks(deps, input, 'created', created);
  }
  return { created };
}

/** The pools and SDN objects a lab step made or removed (its guests' work is audited as their requests). */
function auditNetworks(deps: LabStepDeps, input: LabStepBase, what: 'created' | 'removed', things: CreatedItem[]) {
  if (things.length === 0) return;
  deps.audit(`lab.networks_${what}`, { lab: input.lab, cluster: input.cluster, key: input.key, things });
}

async function createNetwork(deps: LabStepDeps, platform: Platform, item: LabPlanItem, created: CreatedItem[]) {
  if (item.op === 'remove' || item.kind === 'member') return;
  if (item.op === 'change') throw new Error(`${item.description}: changing it in place is not supported`);
  switch (item.kind) {
    case 'pool': {
      const pools = await platform.listPools();
      if (!pools.some((p) => p.poolid === item.pool)) await platform.createPool(item.pool, 'Overseer lab');
      created.push({ kind: 'pool', id: item.pool });
      return;
    }
    case 'zone': {
      const sdn = await platform.readSdn();
      const { name, type, bridge } = item.zone;
      if (!sdn.zones.some((z) => z.zone === name)) {
        await platform.createSdnZone({ zone: name, type, bridge, ...(item.zone.dhcp ? { dhcp: 'dnsmasq' } : {}) });
      }
      created.push({ kind: 'zone', id: name });
      return;
    }
    case 'vnet': {
      const sdn = await platform.readSdn();
      const { name, tag } = item.vnet;
      if (!sdn.vnets.some((v) => v.vnet === name)) await platform.createSdnVnet({ vnet: name, zone: item.zone, tag });
      created.push({ kind: 'vnet', id: name });
      return;
    }
    case 'subnet': {
      const sdn = await platform.readSdn();
      const { cidr, gateway, dhcp } = item.subnet;
      const existing = sdn.subnets.find((s) => s.vnet === item.vnet && s.cidr === cidr);
      const dhcpRanges = dhcp ? [dhcp] : undefined;
      const id = existing?.id ?? (await platform.createSdnSubnet({ vnet: item.vnet, cidr, gateway, dhcpRanges }));
      created.push({ kind: 'subnet', id, vnet: item.vnet });
      return;
    }
    case 'sdn': {
      const task = await platform.applySdn();
      await platform.waitTask(task, { timeoutMs: 120_000 });
      deps.log.info(`lab: SDN changes applied (${task.upid})`);
      return;
    }
  }
}

async function cloneMember(deps: LabStepDeps, input: CloneMemberInput): Promise<CloneMemberOutput> {
  await deps.ready();
  const spec = stepRequest(deps, input, 'deploy', undefined, cloneParams(input.member, input.pool));
  try {
    const record = await runLabRequest(deps.requests, spec);
    // A clone made before a restart completes with no task of its own: its guest is known by its name.
    const vmid = clonedVmid(record) ?? (await guestNamed(deps, input.cluster, input.member.guestName));
    if (vmid === undefined) throw new LabStepError(`clone of ${input.member.name}: request ${spec.id} names no VMID`);
    return { vmid, node: input.member.node };
  } catch (error) {
    if (error instanceof LabStepError) throw error;
    // A clone task that failed may have left its VM behind: the lab records it, so a rollback removes it.
    const record = (error as { record?: Parameters<typeof clonedVmid>[0] }).record;
    const vmid = record && clonedVmid(record);
    // Only a VM that still carries the member's name is the lab's (another clone may have its VMID by now).
    const left = vmid !== undefined && deps.view.vms.get(vmKey(input.cluster, vmid))?.name === input.member.guestName;
    throw new LabStepError((error as Error).message, {
      cause: error,
      created: left ? [{ kind: 'vm', id: vmid, node: input.member.node, member: input.member.name }] : [],
    });
  }
}

async function configureMember(deps: LabStepDeps, input: ConfigureMemberInput): Promise<ConfigureMemberOutput> {
  await deps.ready();
  const { member, vmid } = input;
  if (input.changes?.some((c) => c.field === 'node')) {
    throw new LabStepError(`member ${member.name}: moving it to another node is not done in place; replace it`);
  }
  await guestSettled(deps, input.cluster, vmid);
  await runLabRequest(deps.requests, stepRequest(deps, input, 'configure', vmid, configureParams(member)));
  return {};
}

async function startMember(deps: LabStepDeps, input: StartMemberInput): Promise<unknown> {
  await deps.ready();
  await guestSettled(deps, input.cluster, input.vmid);
  await runLabRequest(deps.requests, stepRequest(deps, input, input.restart ? 'reboot' : 'start', input.vmid));
  return {};
}

/** Tries the member's readiness probe until it answers or its time runs out (no probe: running is ready). */
async function waitReady(deps: LabStepDeps, input: MemberStepInput): Promise<WaitReadyOutput> {
  const { member, vmid, node, cluster } = input;
  const probe = member.probe;
  if (!probe) return { at: deps.clock.now() };
  const platform = platformOf(deps, cluster);
  const until = deps.clock.now() + probe.timeout;
  let last = 'no answer yet';
  for (;;) {
    try {
      if (await tryProbe(deps, platform, input)) return { at: deps.clock.now() };
    } catch (error) {
      last = (error as Error).message;
    }
    if (deps.clock.now() >= until) {
      throw new LabStepError(
        `member ${member.name} (${cluster}/${vmid} on ${node}) was not ready after ${Math.round(probe.timeout / 1000)} s ` +
          `(${probe.type} probe: ${last})`,
      );
    }
    await deps.clock.sleep(deps.probeIntervalMs);
  }
}

async function tryProbe(deps: LabStepDeps, platform: Platform, input: MemberStepInput): Promise<boolean> {
  const { member, vmid, node, cluster } = input;
  const probe = member.probe;
  if (!probe) return true;
  if (probe.type === 'agent') return platform.agentPing(node, vmid);
  if (probe.type === 'ssh') {
    if (!deps.sshProbe) throw new Error('no SSH is configured for probes');
    return (await deps.sshProbe(vmKey(cluster, vmid), probe.command)) === 0;
  }
  const address = member.config.nics?.find((n) => n.address && n.address !== 'dhcp')?.address?.split('/')[0];
  if (!address) throw new Error('the member has no fixed address to probe');
  return tcpOpen(address, probe.port, 3_000);
}

function tcpOpen(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Removes what the lab made, in the order given: guests through destroy requests, then pool and networks. */
async function removeCreated(deps: LabStepDeps, input: RemoveCreatedInput): Promise<unknown> {
  await deps.ready();
  const platform = platformOf(deps, input.cluster);
  const removed: CreatedItem[] = [];
  let sdnChanged = false;
  try {
    for (const thing of input.things) {
      if (thing.kind === 'vm') {
        const vm = deps.view.vms.get(vmKey(input.cluster, thing.id));
        const name = guestName(input.lab, thing.member);
        if (vm && vm.name !== name) {
          // The VMID is someone else's now: the lab's guest is gone, and another is never destroyed for it.
          deps.log.warn(
            `lab:${input.cluster}/${input.lab}: ${input.cluster}/${thing.id} is '${vm.name}', not ${name}: left alone`,
          );
        } else if (vm) {
          await guestSettled(deps, input.cluster, thing.id);
          await runLabRequest(deps.requests, stepRequest(deps, input, 'destroy', thing.id, {}, thing.id));
        }
      } else if (thing.kind === 'pool') {
        const pools = await platform.listPools();
        if (pools.some((p) => p.poolid === thing.id)) await platform.deletePool(thing.id);
      } else {
        const sdn = await platform.readSdn();
        if (thing.kind === 'subnet' && sdn.subnets.some((s) => s.id === thing.id)) {
          await platform.deleteSdnSubnet(thing.vnet, thing.id);
          sdnChanged = true;
        } else if (thing.kind === 'vnet' && sdn.vnets.some((v) => v.vnet === thing.id)) {
          await platform.deleteSdnVnet(thing.id);
          sdnChanged = true;
        } else if (thing.kind === 'zone' && sdn.zones.some((z) => z.zone === thing.id)) {
          await platform.deleteSdnZone(thing.id);
          sdnChanged = true;
        }
      }
      removed.push(thing);
    }
    if (sdnChanged) {
      const task = await platform.applySdn();
      await platform.waitTask(task, { timeoutMs: 120_000 });
    }
  } catch (error) {
    throw new LabStepError(`lab ${input.lab}: ${(error as Error).message}`, { cause: error, removed });
  } finally {
    auditNetworks(
      deps,
      input,
      'removed',
      removed.filter((t) => t.kind !== 'vm'),
    );
  }
  return {};
}

/** Every member's snapshot (or rollback to it) as requests of the lab; fails naming the members that failed. */
async function eachMember(
  deps: LabStepDeps,
  input: SnapshotMembersInput,
  action: 'snapshot' | 'rollback',
): Promise<SnapshotMembersOutput> {
  await deps.ready();
  const platform = platformOf(deps, input.cluster);
  const results = await Promise.allSettled(
    input.members.map(async (m) => {
      await runLabRequest(deps.requests, stepRequest(deps, input, action, m.vmid, { snapname: input.name }, m.vmid));
      // PVE leaves a guest rolled back to a snapshot without RAM stopped: the lab's members run again.
      const type = deps.view.vms.get(vmKey(input.cluster, m.vmid))?.type;
      if (action === 'rollback' && (await platform.vmStatus(m.node, m.vmid, type)) !== 'running') {
        // The start is decided on the view: wait until the sync has seen the rollback's stop.
        await waitUntil(deps, () => deps.view.vms.get(vmKey(input.cluster, m.vmid))?.status !== 'running', 60_000);
        await runLabRequest(
          deps.requests,
          stepRequest(deps, { ...input, key: `${input.key}:start` }, 'start', m.vmid, {}, m.vmid),
        );
      }
      return m.member;
    }),
  );
  const failed = results.flatMap((r, i) =>
    r.status === 'rejected' ? [`${input.members[i]?.member}: ${r.reason}`] : [],
  );
  if (failed.length > 0) throw new LabStepError(`${action} of ${failed.length} member(s) failed: ${failed.join('; ')}`);
  return { members: results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : [])) };
}

/** How long a step waits for the view to show a guest it works on present and unlocked (a clone just ended). */
const VIEW_SETTLE_MS = 60_000;

/**
 * Waits until the view shows the guest present and without a lock (a clone's lock lingers in the view until the
 * next sync): its request is then decided and re-checked on what is true. Goes on after VIEW_SETTLE_MS regardless:
 * the request's own checks then say what is wrong.
 */
function guestSettled(deps: LabStepDeps, cluster: string, vmid: number): Promise<void> {
  return waitUntil(
    deps,
    () => {
      const vm = deps.view.vms.get(vmKey(cluster, vmid));
      return vm !== undefined && !vm.lock;
    },
    VIEW_SETTLE_MS,
  );
}

/** The VMID of the guest of that name, once the view shows it (undefined when it does not within VIEW_SETTLE_MS). */
async function guestNamed(deps: LabStepDeps, cluster: string, name: string): Promise<number | undefined> {
  const find = () => [...deps.view.vms.values()].find((vm) => vm.cluster === cluster && vm.name === name)?.vmid;
  await waitUntil(deps, () => find() !== undefined, VIEW_SETTLE_MS);
  return find();
}

/** Waits (on the injected clock) until `done()` holds or `limitMs` passed. */
async function waitUntil(deps: LabStepDeps, done: () => boolean, limitMs: number): Promise<void> {
  const until = deps.clock.now() + limitMs;
  while (!done() && deps.clock.now() < until) await deps.clock.sleep(1_000);
}

/** The step actors, for `labMachine.provide({ actors })`. */
export function labStepActors(deps: LabStepDeps) {
  return {
    plan: fromPromise<LabPlan, PlanInput>(({ input }) => plan(deps, input)),
    gate: fromPromise<GateResult, LabGateInput>(({ input }) => deps.decide(input)),
    createNetworks: fromPromise<CreatedOutput, CreateNetworksInput>(({ input }) => createNetworks(deps, input)),
    cloneMember: fromPromise<CloneMemberOutput, CloneMemberInput>(({ input }) => cloneMember(deps, input)),
    configureMember: fromPromise<ConfigureMemberOutput, ConfigureMemberInput>(({ input }) =>
      configureMember(deps, input),
    ),
    startMember: fromPromise<unknown, StartMemberInput>(({ input }) => startMember(deps, input)),
    waitReady: fromPromise<WaitReadyOutput, MemberStepInput>(({ input }) => waitReady(deps, input)),
    removeCreated: fromPromise<unknown, RemoveCreatedInput>(({ input }) => removeCreated(deps, input)),
    snapshotMembers: fromPromise<SnapshotMembersOutput, SnapshotMembersInput>(({ input }) =>
      eachMember(deps, input, 'snapshot'),
    ),
    revertMembers: fromPromise<SnapshotMembersOutput, SnapshotMembersInput>(({ input }) =>
      eachMember(deps, input, 'rollback'),
    ),
  };
}
