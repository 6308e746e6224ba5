// The fake core's labs (tests/gateway/fake-core.ts): lab files are read by the real parser and its own checks
// (protocol/lab-file-parse.ts: no cluster inventory), then deployed in memory. The fake's gate: a lab with a VM
// tagged `prod` awaits a second person's approval, any other is approved. Like the fake's requests, each read of a
// lab (the `lab` query) moves its work one step: every member one phase on (planned → cloning → cloned →
// configuring → configured → starting → booting → ready), a teardown to destroyed, a snapshot or revert back to
// ready. A VM whose template is `broken` fails its clone: the lab then fails (policy onFailure: keep) or rolls back
// (rolling_back, then rolled_back on the next read). Refusals are the core's (actors/lab-service.ts): an
// InputRefusedError naming the field.
// Seeded on cluster lab: `web` (ready, members web-1 and web-2, snapshot `base`; applied by oscar, tok2), `draft`
// (awaiting approval, applied by oscar), `review` (awaiting approval, applied by alan, tok4) and `old` (destroyed).
import { formatIssue } from '../../machines/lab';
import { ROLE_RANK } from '../../machines/types';
import type { LabActPayload, LabMemberView, LabView, Principal, QueryMap } from '../../protocol';
import { InputRefusedError, RoleRefusedError, StateConflictError } from '../../protocol';
import { checkLabFile, labFileFormatOf } from '../../protocol/lab-file-parse';

type Names = 'labApply' | 'labList' | 'lab' | 'labApprove' | 'labDeny' | 'labDestroy' | 'labSnapshot' | 'labRevert';
type Handlers = { [W in Names]: (p: QueryMap[W]['payload'], principal: Principal) => QueryMap[W]['reply'] };

export const MEMBER_PHASES = [
  'planned',
  'cloning',
  'cloned',
  'configuring',
  'configured',
  'starting',
  'booting',
  'ready',
] as const;

const STATUS_OF_PHASE: Record<string, string> = {
  planned: 'networks',
  cloning: 'cloning',
  cloned: 'cloning',
  configuring: 'configuring',
  configured: 'configuring',
  starting: 'starting',
  booting: 'starting',
  ready: 'ready',
};

const PROD_REASON = 'a member is tagged prod: a second person must approve';
const ENDED = new Set(['denied', 'cancelled', 'expired', 'rolled_back', 'destroyed']);

interface FakeLab {
  view: LabView;
  /** Members whose clone fails (their VM's template is `broken`). */
  broken: Set<string>;
  keepOnFailure: boolean;
  /** The snapshot being taken: listed once it is done. */
  pendingSnapshot?: string | undefined;
}

export interface FakeLabs {
  /** By `<cluster>/<name>`; tests may look at or change them. */
  labs: Map<string, FakeLab>;
  handlers: Handlers;
}

const personOf = (p: Principal): string => p.person ?? p.id;
const requesterOf = (p: Principal) => ({ id: p.id, name: p.name, role: p.role });

function member(lab: string, name: string, vm: string, over: Partial<LabMemberView> = {}): LabMemberView {
  return { name, vm, guestName: `${lab}-${name}`, wave: 0, dependsOn: [], phase: 'planned', ...over };
}

function labView(name: string, at: number, over: Partial<LabView> = {}): LabView {
  return {
    name,
    cluster: 'lab',
    status: 'ready',
    generation: 1,
    requester: { id: 'tok2', name: 'oscar', role: 'operator' },
    createdAt: at,
    updatedAt: at,
    decision: 'approved',
    reasons: [],
    checks: [{ check: 'authorization', outcome: 'pass', reason: 'operator may deploy' }],
    members: [],
    created: [],
    snapshots: [],
    plan: [],
    drift: [],
    ended: false,
    ...over,
  };
}

export function createFakeLabs(now: () => number): FakeLabs {
  const labs = new Map<string, FakeLab>();
  const seed = (view: LabView) =>
    labs.set(`${view.cluster}/${view.name}`, { view, broken: new Set(), keepOnFailure: false });
  seed(labView('old', now() - 7_200_000, { status: 'destroyed', ended: true, endedAt: now() - 3_600_000 }));
  seed(
    labView('web', now() - 3_600_000, {
      members: [
        member('web', 'web-1', 'web', { phase: 'ready', vmid: 201, node: 'pve1' }),
        member('web', 'web-2', 'web', { phase: 'ready', vmid: 202, node: 'pve2' }),
      ],
      created: [
        { kind: 'pool', id: 'web', generation: 1 },
        { kind: 'vm', id: 201, generation: 1 },
        { kind: 'vm', id: 202, generation: 1 },
      ],
      snapshots: [{ name: 'base', at: now() - 1_800_000, members: ['web-1', 'web-2'] }],
      expiresAt: now() + 3_600_000,
    }),
  );
  const awaiting = (name: string, at: number, requester: LabView['requester']) =>
    labView(name, at, {
      requester,
      status: 'awaiting_approval',
      decision: 'awaiting_approval',
      reasons: [PROD_REASON],
      checks: [
        { check: 'authorization', outcome: 'pass', reason: `${requester.role} may deploy` },
        { check: 'production', outcome: 'approval', reason: PROD_REASON },
      ],
      members: [member(name, 'db', 'db')],
      plan: [`+ create vm '${name}-db'`],
    });
  seed(awaiting('draft', now() - 120_000, { id: 'tok2', name: 'oscar', role: 'operator' }));
  seed(awaiting('review', now() - 60_000, { id: 'tok4', name: 'alan', role: 'admin' }));

  const touch = (lab: FakeLab, status: string) => {
    lab.view.status = status;
    lab.view.updatedAt = now();
    if (ENDED.has(status)) {
      lab.view.ended = true;
      lab.view.endedAt = now();
      lab.view.members = lab.view.members.map((m) => ({ ...m, phase: 'removed' }));
      lab.view.created = [];
    }
  };

  /** Like the core: with a cluster, that lab; without, the live lab of that name, else the newest ended one. */
  const find = (ref: { name: string; cluster?: string | undefined }): FakeLab | undefined => {
    if (ref.cluster !== undefined) return labs.get(`${ref.cluster}/${ref.name}`);
    const named = [...labs.values()].filter((l) => l.view.name === ref.name);
    const live = named.filter((l) => !l.view.ended);
    if (live.length > 1) {
      const clusters = live.map((l) => l.view.cluster).join(', ');
      throw new InputRefusedError(`cluster: lab ${ref.name} runs on ${clusters}: name the cluster`, 'cluster');
    }
    return live[0] ?? named[0];
  };

  const inStatus = (ref: LabActPayload, statuses: string[], what: string): FakeLab => {
    const lab = find(ref);
    if (!lab) throw new InputRefusedError(`name: no lab '${ref.name}'`, 'name');
    if (lab.view.ended) throw new StateConflictError(`lab ${ref.name} has ended (${lab.view.status})`);
    if (!statuses.includes(lab.view.status)) {
      const allowed = statuses.join(' or ');
      throw new StateConflictError(`lab ${ref.name} is ${lab.view.status}: it can be ${what} only when ${allowed}`);
    }
    return lab;
  };

  /** One step of the lab's work (each read of it). */
  const advance = (lab: FakeLab) => {
    const { view } = lab;
    if (view.status === 'tearing_down') return touch(lab, 'destroyed');
    if (view.status === 'rolling_back') return touch(lab, 'rolled_back');
    if (view.status === 'snapshotting' && lab.pendingSnapshot !== undefined) {
      const name = lab.pendingSnapshot;
      const members = view.members.filter((m) => m.vmid !== undefined).map((m) => m.name);
      view.snapshots = [...view.snapshots.filter((s) => s.name !== name), { name, at: now(), members }];
      lab.pendingSnapshot = undefined;
    }
    if (view.status === 'snapshotting' || view.status === 'reverting') return touch(lab, 'ready');
    if (!['networks', 'cloning', 'configuring', 'starting'].includes(view.status)) return;
    const failed = view.members.find((m) => m.phase === 'cloning' && lab.broken.has(m.vm));
    if (failed) {
      const error = `clone of ${failed.guestName} failed: template broken is locked`;
      view.members = view.members.map((m) => (m === failed ? { ...m, phase: 'failed', error } : m));
      view.failure = { step: 'clone', member: failed.name, error };
      return touch(lab, lab.keepOnFailure ? 'failed' : 'rolling_back');
    }
    view.members = view.members.map((m, i) => {
      const at = MEMBER_PHASES.indexOf(m.phase as (typeof MEMBER_PHASES)[number]);
      if (at < 0 || m.phase === 'ready') return m;
      const phase = MEMBER_PHASES[at + 1]!;
      const placed = phase === 'cloned' ? { vmid: 300 + i, node: i % 2 === 0 ? 'pve1' : 'pve2' } : {};
      return { ...m, phase, ...placed, ...(phase === 'ready' ? { readyAt: now() } : {}) };
    });
    const slowest = Math.min(...view.members.map((m) => MEMBER_PHASES.indexOf(m.phase as never)));
    touch(lab, STATUS_OF_PHASE[MEMBER_PHASES[Math.max(0, slowest)]!]!);
  };

  const apply: Handlers['labApply'] = ({ file, fileName }, by) => {
    const checked = checkLabFile(file, { format: fileName !== undefined ? labFileFormatOf(fileName) : undefined });
    const [first] = checked.issues;
    if (!checked.spec || first) {
      if (!first) throw new InputRefusedError('the lab file is not valid', 'file');
      throw new InputRefusedError(formatIssue(first), first.path || 'file');
    }
    const spec = checked.spec;
    if (spec.cluster !== 'lab') {
      throw new InputRefusedError(`cluster: no cluster '${spec.cluster}' is configured`, 'cluster');
    }
    const key = `${spec.cluster}/${spec.name}`;
    const live = labs.get(key);
    if (live && !live.view.ended && !['ready', 'failed'].includes(live.view.status)) {
      throw new StateConflictError(`lab ${key} is ${live.view.status}: apply again once it is ready`);
    }
    const kept = new Map((live && !live.view.ended ? live.view.members : []).map((m) => [m.name, m]));
    const members = spec.vms.flatMap((vm) =>
      Array.from({ length: vm.count }, (_, i) => {
        const name = vm.count === 1 ? vm.name : `${vm.name}-${i + 1}`;
        return kept.get(name) ?? member(spec.name, name, vm.name, { dependsOn: vm.dependsOn });
      }),
    );
    const prod = spec.vms.some((vm) => vm.tags?.includes('prod'));
    const checks = [
      { check: 'authorization', outcome: 'pass', reason: `${by.role} may deploy` },
      ...(prod ? [{ check: 'production', outcome: 'approval', reason: PROD_REASON }] : []),
    ];
    const view = labView(spec.name, now(), {
      requester: requesterOf(by),
      generation: live && !live.view.ended ? live.view.generation + 1 : 1,
      createdAt: live && !live.view.ended ? live.view.createdAt : now(),
      status: prod ? 'awaiting_approval' : 'networks',
      decision: prod ? 'awaiting_approval' : 'approved',
      reasons: prod ? [PROD_REASON] : [],
      checks,
      members,
      snapshots: live && !live.view.ended ? live.view.snapshots : [],
      plan: members.filter((m) => m.phase === 'planned').map((m) => `+ create vm '${m.guestName}'`),
      ...(spec.policy.ttl !== undefined ? { expiresAt: now() + spec.policy.ttl } : {}),
    });
    const broken = new Set(spec.vms.filter((vm) => vm.template === 'broken').map((vm) => vm.name));
    const lab: FakeLab = { view, broken, keepOnFailure: spec.policy.onFailure === 'keep' };
    labs.set(key, lab);
    if (!prod && members.every((m) => m.phase === 'ready')) touch(lab, 'ready');
    return structuredClone(view);
  };

  const handlers: Handlers = {
    labApply: apply,
    labList: (p) => {
      const live = p.live ?? true;
      const items = [...labs.values()]
        .map((l) => l.view)
        .filter((v) => (p.cluster === undefined || v.cluster === p.cluster) && (!live || !v.ended))
        .sort((a, b) => b.createdAt - a.createdAt);
      const offset = p.offset ?? 0;
      return { items: structuredClone(items.slice(offset, offset + (p.limit ?? 100))), total: items.length };
    },
    lab: (p) => {
      const lab = find(p);
      if (!lab) return null;
      const view = structuredClone(lab.view);
      advance(lab);
      return view;
    },
    labApprove: (p, by) => {
      const lab = inStatus(p, ['awaiting_approval'], 'approved or denied');
      if (personOf(by) === lab.view.requester.id) {
        throw new RoleRefusedError('the requester cannot approve their own lab');
      }
      lab.view.decision = 'approved';
      lab.view.approvedBy = { id: by.id, at: now(), ...(p.reason !== undefined ? { reason: p.reason } : {}) };
      touch(lab, 'networks');
      return structuredClone(lab.view);
    },
    labDeny: (p, by) => {
      const lab = inStatus(p, ['awaiting_approval'], 'approved or denied');
      const own = personOf(by) === lab.view.requester.id;
      if (!own && by.role !== 'admin') {
        throw new RoleRefusedError('only the requester or an admin may cancel or deny a lab');
      }
      lab.view.decision = 'denied';
      if (p.reason !== undefined) lab.view.reasons = [p.reason];
      touch(lab, own ? 'cancelled' : 'denied');
      return structuredClone(lab.view);
    },
    labDestroy: (p, by) => {
      if (ROLE_RANK[by.role] < ROLE_RANK.admin) {
        throw new RoleRefusedError(`role ${by.role} may not destroy a lab (needs admin)`);
      }
      const lab = inStatus(p, ['ready', 'failed'], 'destroyed');
      touch(lab, 'tearing_down');
      return structuredClone(lab.view);
    },
    labSnapshot: (p) => {
      const lab = inStatus(p, ['ready'], 'snapshotted');
      lab.pendingSnapshot = p.snapshot;
      delete lab.view.failure;
      touch(lab, 'snapshotting');
      return structuredClone(lab.view);
    },
    labRevert: (p) => {
      const lab = inStatus(p, ['ready'], 'reverted');
      const known = lab.view.snapshots.map((s) => s.name);
      if (!known.includes(p.snapshot)) {
        const list = known.length > 0 ? known.join(', ') : 'none';
        throw new InputRefusedError(
          `snapshot: lab ${p.name} has no snapshot '${p.snapshot}' (it has: ${list})`,
          'snapshot',
        );
      }
      delete lab.view.failure;
      touch(lab, 'reverting');
      return structuredClone(lab.view);
    },
  };
  return { labs, handlers };
}
