// A lab's platform work on guests runs as requests of the lab (`parent: lab:<cluster>/<name>`): a clone is a
// `deploy`, then `start`/`reboot`, `snapshot`, `rollback` and `destroy`. Each goes through the gate (schema, and the
// parent check: the lab's decision covers it only while the lab's current work lists it, with these parameters)
// and the one executor with its exactly-once guarantee. A request's id is made from the step's key, so a step run
// again after a restart finds the request it made and waits for it instead of making another.
import type { ResolvedMember } from '../machines/lab';
import { existingMembers, rollbackList, teardownList } from '../machines/lab/lab-work';
import type { CreatedItem, LabContext } from '../machines/lab.machine';
import type {
  BulkMember,
  ConfigureParams,
  Requester,
  RequestParams,
  RequestSpec,
  RequestStatus,
} from '../machines/types';
import { NEW_GUEST } from '../machines/types';
import type { RequestRecord } from '../state';

/** What the lab runtime needs of the request service. */
export interface LabRequestHost {
  /** A request's status (live, or as recorded); undefined when there is none of that id. */
  statusOf(id: string): RequestStatus | undefined;
  /** A request as recorded (after writing what is pending). */
  record(id: string): RequestRecord | undefined;
  /** Records, audits and starts a member request of a parent. */
  createMember(spec: RequestSpec): void;
  /** Resolves with the request's status once it is terminal. */
  settled(id: string, signal?: AbortSignal): Promise<RequestStatus>;
}

/** The parameters of a member's clone: what the lab's decision covers and the deploy request carries, the same. */
export function cloneParams(member: ResolvedMember, pool: string): RequestParams {
  return {
    template: member.template.vmid,
    node: member.node,
    name: member.guestName,
    full: member.clone === 'full',
    pool,
  };
}

/** A member's settings as its `configure` request carries them (what the file leaves out is left as it is). */
export function configureParams(member: ResolvedMember): RequestParams {
  const { config } = member;
  const ci = config.cloudInit;
  const params: ConfigureParams = {
    cores: config.cores,
    memory: member.memory,
    tags: config.tags,
    nics: config.nics?.map((nic, index) => ({
      index,
      bridge: nic.bridge,
      ...(nic.tag !== undefined ? { tag: nic.tag } : {}),
      ...(nic.address !== undefined ? { ip: nic.address } : {}),
      ...(nic.gateway !== undefined ? { gw: nic.gateway } : {}),
    })),
    ciuser: ci?.user,
    sshKeys: ci?.sshKeys,
    nameserver: ci?.nameserver,
    searchdomain: ci?.searchDomain,
    disk: config.disk !== undefined && config.disk > member.template.disk ? config.disk : undefined,
  };
  // JSON-like: a key left undefined is absent (as the request's record keeps it).
  return JSON.parse(JSON.stringify(params)) as RequestParams;
}

/** The id of a lab's request for one step (and one thing of a removal): the step's key, made a request id. */
export function labRequestId(cluster: string, key: string, vmid?: number): string {
  const id = `lab-${cluster}-${key.replaceAll(':', '-')}${vmid === undefined ? '' : `-${vmid}`}`;
  return id.length <= 128 ? id : `lab-${cluster}-${hashOf(id)}`;
}

function hashOf(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193) >>> 0;
  return h.toString(16);
}

const SUCCEEDED: ReadonlySet<RequestStatus> = new Set(['completed', 'nothing_to_do']);

export class LabRequestError extends Error {
  override name = 'LabRequestError';
  constructor(
    message: string,
    readonly record: RequestRecord | undefined,
  ) {
    super(message);
  }
}

/**
 * Runs one request of a lab to its end: made unless a request of this id exists (a restart), then waited for.
 * Resolves with its record when it completed (or had nothing to do); rejects with LabRequestError otherwise.
 */
export async function runLabRequest(
  host: LabRequestHost,
  spec: RequestSpec,
  signal?: AbortSignal,
): Promise<RequestRecord> {
  if (host.statusOf(spec.id) === undefined) host.createMember(spec);
  const status = await host.settled(spec.id, signal);
  const record = host.record(spec.id);
  if (SUCCEEDED.has(status) && record) return record;
  const why = record?.error ?? record?.reasons.join('; ') ?? 'no record of it';
  const target = spec.target.vmid === undefined ? spec.target.cluster : `${spec.target.cluster}/${spec.target.vmid}`;
  throw new LabRequestError(`${spec.action} of ${target} (request ${spec.id}) ${status}: ${why}`, record);
}

/** A lab's request for `action` on `vmid` (none for a clone), as its requester. */
export function labRequestSpec(
  parent: string,
  id: string,
  requester: Requester,
  at: number,
  cluster: string,
  action: RequestSpec['action'],
  vmid: number | undefined,
  params: RequestParams = {},
): RequestSpec {
  return {
    id,
    action,
    target: vmid === undefined ? { cluster } : { cluster, vmid },
    params,
    force: false,
    requester,
    submittedAt: at,
    origin: requester.id === 'overseer' ? 'overseer' : 'human',
    parent,
  };
}

/** The VMID a completed clone request made. */
export function clonedVmid(record: RequestRecord): number | undefined {
  for (const task of record.taskIds) {
    const vmid = (task as { vmid?: number }).vmid;
    if (vmid !== undefined) return vmid;
  }
  return undefined;
}

const vmsOf = (things: readonly CreatedItem[]): number[] => things.flatMap((t) => (t.kind === 'vm' ? [t.id] : []));

/**
 * What the lab's decision covers now, by the state the lab is in and its work: the clones and starts running, the
 * guests a removal, rollback or teardown destroys, the members a whole-lab snapshot or revert touches. A lab at
 * rest covers nothing: a request naming it as parent is then denied.
 */
export function labCoverage(state: string, context: LabContext): BulkMember[] {
  const work = context.work;
  const covered: BulkMember[] = [];
  const destroy = (vmids: number[]) => {
    for (const vmid of vmids) covered.push({ vmid, action: 'destroy', params: {} });
  };
  switch (state) {
    case 'cloning':
      for (const name of work?.clone.running ?? []) {
        const m = context.members[name];
        if (m) covered.push({ vmid: NEW_GUEST, action: 'deploy', params: cloneParams(m.member, context.spec.pool) });
      }
      return covered;
    case 'configuring':
      for (const name of work?.configure.running ?? []) {
        const m = context.members[name];
        if (m?.vmid !== undefined)
          covered.push({ vmid: m.vmid, action: 'configure', params: configureParams(m.member) });
      }
      return covered;
    case 'starting':
      for (const name of work?.start.running ?? []) {
        const vmid = context.members[name]?.vmid;
        if (vmid === undefined) continue;
        covered.push({ vmid, action: work?.restart.includes(name) ? 'reboot' : 'start', params: {} });
      }
      return covered;
    case 'removing':
      destroy(vmsOf(work?.remove ?? []));
      return covered;
    case 'rolling_back':
      destroy(vmsOf(rollbackList(context)));
      return covered;
    case 'tearing_down':
      destroy(vmsOf(teardownList(context)));
      return covered;
    case 'snapshotting':
    case 'reverting': {
      const snapname = context.pendingSnapshot?.name;
      if (snapname === undefined) return covered;
      const action = state === 'snapshotting' ? 'snapshot' : 'rollback';
      for (const m of existingMembers(context)) {
        covered.push({ vmid: m.vmid, action, params: { snapname } });
        // A reverted member that the rollback left stopped is started again.
        if (state === 'reverting') covered.push({ vmid: m.vmid, action: 'start', params: {} });
      }
      return covered;
    }
    default:
      return covered;
  }
}
