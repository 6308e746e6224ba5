// An applied lab as it stands, from the lab's own record (what it created, where each member is) and each member's
// power state as the cluster last reported it. Configuration is the lab's record of what it set: the plan compares
// the file with what the lab did, and a member's presence and power state with what the cluster says. Pure.
import type { VmPowerStatus } from '../types';
import type { CreatedThing, MemberState } from './lab-types';
import type { LabActual } from './model';
import type { LabSpec } from './spec';

/** A member's power state on the cluster; `missing` when the cluster (read successfully) no longer has it. */
export type MemberStatusOf = (member: MemberState) => VmPowerStatus | 'missing';

/** The status a member's own record implies (for a lab with no cluster to ask: tests, plans of a record). */
export const statusFromRecord: MemberStatusOf = ({ phase }) =>
  phase === 'gone' ? 'missing' : phase === 'stopped' ? 'stopped' : 'running';

/** The lab as it stands, or undefined when it created nothing yet (a first apply plans everything). */
export function labActual(
  spec: LabSpec,
  members: readonly MemberState[],
  created: readonly CreatedThing[],
  statusOf: MemberStatusOf = statusFromRecord,
): LabActual | undefined {
  if (created.length === 0) return undefined;
  const zone = created.find((c) => c.kind === 'zone');
  return {
    name: spec.name,
    cluster: spec.cluster,
    pool: created.find((c) => c.kind === 'pool')?.id as string | undefined,
    zone: zone && spec.networks.zone,
    vnets: spec.networks.vnets.filter((v) => created.some((c) => c.kind === 'vnet' && c.id === v.name)),
    members: members.flatMap((state) => {
      const { member: m, vmid, node, phase } = state;
      if (vmid === undefined || node === undefined || phase === 'removed' || phase === 'planned') return [];
      return [
        {
          name: m.name,
          vm: m.vm,
          ordinal: m.ordinal,
          vmid,
          node,
          type: m.type,
          status: statusOf(state),
          template: m.template.vmid,
          clone: m.clone,
          config: { ...m.config, memory: m.memory, disk: m.config.disk ?? m.template.disk },
        },
      ];
    }),
  };
}
