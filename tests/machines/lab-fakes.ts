// Fakes for the lab machine's tests: a three-tier lab file, a cluster to check it against, the plan step as the
// runtime runs it (the file validated and planned by machines/lab), and step actors that record what each was asked.
import type { Snapshot } from 'xstate';
import { createActor, fromCallback, fromPromise } from 'xstate';
import { SimulatedClock } from '../../adapters/clock';
import type { LabActual, LabInventory, LabPlan, LabPolicy, LabSpec, LabVm } from '../../machines/lab';
import { labActual, planLab, validateLab } from '../../machines/lab';
import type {
  CloneMemberInput,
  ConfigureMemberInput,
  CreatedItem,
  CreateNetworksInput,
  LabDriftNotice,
  LabGateInput,
  MemberStepInput,
  PlanInput,
  RemoveCreatedInput,
  SnapshotMembersInput,
  StartMemberInput,
} from '../../machines/lab.machine';
import { labMachine } from '../../machines/lab.machine';
import type { GateResult } from '../../machines/types';

export const alice = { id: 'alice', role: 'operator' as const };
export const bob = { id: 'bob', role: 'admin' as const };
const pass = { check: 'capacity', outcome: 'pass' as const, reason: 'fits' };
const approved: GateResult = { decision: 'approved', checks: [pass], reasons: [] };
const GiB = 1024 ** 3;

export const vm = (name: string, extra: Partial<LabVm> = {}): LabVm => ({
  name,
  template: 'debian-12',
  clone: 'linked',
  count: 1,
  dependsOn: [],
  memory: 1024,
  networks: [{ vnet: 'tier3n0' }],
  ...extra,
});

/** The three-tier lab: router → db → web-1..3, on one VNet of its own zone, in its own pool. */
export const THREE_TIER: LabVm[] = [
  vm('router'),
  vm('db', { dependsOn: ['router'] }),
  vm('web', { count: 3, dependsOn: ['db'] }),
];

export function labSpec(policy: Partial<LabPolicy> = {}, vms = THREE_TIER): LabSpec {
  return {
    version: 1,
    name: 'tier3',
    cluster: 'lab',
    pool: 'lab-tier3',
    networks: {
      zone: { name: 'tier3', type: 'simple' },
      vnets: [{ name: 'tier3n0', subnets: [{ cidr: '10.1.0.0/24', gateway: '10.1.0.1' }] }],
    },
    vms,
    policy: { parallelism: 2, onFailure: 'rollback', drift: 'repair', ...policy },
  };
}

const INVENTORY: LabInventory = {
  cluster: 'lab',
  guests: [{ vmid: 9000, name: 'debian-12', node: 'pve1', template: true, maxmem: 2 * GiB, maxdisk: 32 * GiB }],
  hosts: [{ node: 'pve1', status: 'online', mem: 8 * GiB, maxmem: 64 * GiB }],
};

/** The lab as its record holds it (the runtime also asks the cluster; here the record is the truth). */
const actualOf = ({ spec, members, created }: PlanInput): LabActual | undefined => labActual(spec, members, created);

/** The plan step as the runtime runs it: the file checked against the cluster, then planned against the lab. */
function planOf(input: PlanInput): LabPlan {
  const actual = actualOf(input);
  const checked = validateLab(input.spec, INVENTORY, actual);
  if (!checked.resolved)
    return { lab: input.spec.name, cluster: input.spec.cluster, items: [], issues: checked.issues };
  return planLab(checked.resolved, actual);
}

type Held = { label: string; resolve: () => void; reject: (e: unknown) => void };

/** Fake platform steps: record what each was asked, in order, and answer (at once, or when the test says). */
export class FakeSteps {
  calls: string[] = [];
  timeline: string[] = [];
  inputs: Record<string, unknown[]> = {};
  running = 0;
  maxRunning = 0;
  nextVmid = 201;
  gate: GateResult = approved;
  holding = new Set<string>();
  held: Held[] = [];
  failures = new Map<string, Error>();

  async run<T>(step: string, label: string, input: unknown, produce: () => T): Promise<T> {
    const call = label ? `${step} ${label}` : step;
    this.calls.push(call);
    this.timeline.push(`+${call}`);
    this.inputs[step] = [...(this.inputs[step] ?? []), input];
    const counted = step === 'clone';
    if (counted) this.maxRunning = Math.max(this.maxRunning, ++this.running);
    const out = produce();
    try {
      // A failing step answers at once, before the steps running beside it.
      const failure = this.failures.get(call);
      if (failure) throw failure;
      if (this.holding.has(step)) {
        await new Promise<void>((resolve, reject) => this.held.push({ label: call, resolve, reject }));
      } else await Promise.resolve();
      return out;
    } finally {
      if (counted) this.running--;
      this.timeline.push(`-${call}`);
    }
  }

  release(label: string): void {
    const i = this.held.findIndex((h) => h.label === label);
    const [h] = this.held.splice(i, 1);
    h?.resolve();
  }

  actors(clock: SimulatedClock) {
    const deadline = (type: string) =>
      fromCallback<{ type: string }, { at: number }>(({ input, sendBack }) => {
        const h = clock.setTimeout(() => sendBack({ type }), input.at - clock.now());
        return () => clock.clearTimeout(h);
      });
    const member = (i: { member: { name: string } }) => i.member.name;
    return {
      plan: fromPromise<LabPlan, PlanInput>(({ input }) => this.run('plan', '', input, () => planOf(input))),
      gate: fromPromise<GateResult, LabGateInput>(({ input }) => this.run('gate', '', input, () => this.gate)),
      createNetworks: fromPromise<{ created: CreatedItem[] }, CreateNetworksInput>(({ input }) =>
        this.run('networks', '', input, () => ({
          created: input.items.flatMap((n): CreatedItem[] => {
            if (n.op !== 'create') return [];
            if (n.kind === 'pool') return [{ kind: 'pool', id: n.pool }];
            if (n.kind === 'zone') return [{ kind: 'zone', id: n.zone.name }];
            if (n.kind === 'vnet') return [{ kind: 'vnet', id: n.vnet.name }];
            if (n.kind !== 'subnet') return [];
            return [{ kind: 'subnet', id: `${n.zone}-${n.subnet.cidr.replace('/', '-')}`, vnet: n.vnet }];
          }),
        })),
      ),
      cloneMember: fromPromise<{ vmid: number; node: string }, CloneMemberInput>(({ input }) =>
        this.run('clone', member(input), input, () => ({ vmid: this.nextVmid++, node: 'pve1' })),
      ),
      configureMember: fromPromise<{ node?: string }, ConfigureMemberInput>(({ input }) =>
        this.run('configure', member(input), input, () => ({})),
      ),
      startMember: fromPromise<unknown, StartMemberInput>(({ input }) =>
        this.run(input.restart ? 'restart' : 'start', member(input), input, () => ({})),
      ),
      waitReady: fromPromise<{ at: number }, MemberStepInput>(({ input }) =>
        this.run('ready', member(input), input, () => ({ at: clock.now() })),
      ),
      removeCreated: fromPromise<unknown, RemoveCreatedInput>(({ input }) => this.run('remove', '', input, () => ({}))),
      snapshotMembers: fromPromise<{ members: string[] }, SnapshotMembersInput>(({ input }) =>
        this.run('snapshot', '', input, () => ({ members: input.members.map((m) => m.member) })),
      ),
      revertMembers: fromPromise<{ members: string[] }, SnapshotMembersInput>(({ input }) =>
        this.run('revert', '', input, () => ({ members: input.members.map((m) => m.member) })),
      ),
      approvalDeadline: deadline('APPROVAL_EXPIRED'),
      ttlDeadline: deadline('TTL_EXPIRED'),
    };
  }
}

export function startLab(spec: LabSpec, options: { steps?: FakeSteps; snapshot?: Snapshot<unknown> } = {}) {
  const clock = new SimulatedClock(1_000);
  const steps = options.steps ?? new FakeSteps();
  const machine = labMachine.provide({ actors: steps.actors(clock) });
  const input = { spec, requester: alice, submittedAt: 1_000, approvalTimeoutMs: 60_000 };
  const actor = createActor(machine, {
    clock,
    input,
    ...(options.snapshot ? { snapshot: options.snapshot as never } : {}),
  });
  const drift: LabDriftNotice[] = [];
  actor.on('drift', (e) => drift.push(e));
  actor.start();
  return { actor, clock, steps, drift, state: () => actor.getSnapshot().value, ctx: () => actor.getSnapshot().context };
}
