// The core's lab reads: `labPlan` checks a lab file against its cluster as Overseer sees it now (guests and nodes
// from the inventory, SDN objects read from the platform) and answers what an apply would do, without doing it.
import type { Platform } from '../adapters/platform/types';
import type { LabInventory, LabSdnInventory } from '../machines/lab';
import { formatPlan, planLab } from '../machines/lab';
import type { LabPlanReply, QueryHandlers } from '../protocol';
import { InputRefusedError } from '../protocol';
import { checkLabFile, labFileFormatOf, validateLabFile } from '../protocol/lab-file-parse';
import type { OverseerConfig } from './config';
import type { SystemView } from './system-view';

export interface LabQueryDeps {
  view: SystemView;
  platforms: ReadonlyMap<string, Platform>;
  config: Pick<OverseerConfig, 'gate'>;
}

const refused = (issues: LabPlanReply['issues'], warnings: LabPlanReply['warnings'] = []): LabPlanReply => ({
  ok: false,
  issues,
  warnings,
  items: [],
  lines: [],
});

/** What lab validation needs of a cluster: its guests and nodes (the view) and its SDN objects (the platform). */
export async function labInventory(deps: LabQueryDeps, cluster: string, platform: Platform): Promise<LabInventory> {
  let sdn: LabSdnInventory | undefined;
  try {
    sdn = await platform.readSdn();
  } catch (error) {
    throw new InputRefusedError(
      `the SDN configuration of cluster ${cluster} could not be read: ${(error as Error).message}`,
      'cluster',
    );
  }
  return {
    cluster,
    guests: [...deps.view.vms.values()].filter((g) => g.cluster === cluster),
    hosts: [...deps.view.hosts.values()].filter((h) => h.cluster === cluster),
    sdn,
    memReserveFraction: deps.config.gate.capacity.memReserveFraction,
  };
}

export function labQueries(deps: LabQueryDeps): Pick<QueryHandlers, 'labPlan'> {
  return {
    labPlan: async ({ file, fileName }) => {
      const format = fileName !== undefined ? labFileFormatOf(fileName) : undefined;
      const checked = checkLabFile(file, { format });
      if (!checked.spec || checked.issues.length > 0) return refused(checked.issues, checked.warnings);
      const { cluster } = checked.spec;
      const platform = deps.platforms.get(cluster);
      if (!platform) {
        return refused([{ path: 'cluster', message: `no cluster '${cluster}' is configured` }], checked.warnings);
      }
      const result = validateLabFile(file, await labInventory(deps, cluster, platform), undefined, { format });
      if (!result.resolved) return refused(result.issues, result.warnings);
      const plan = planLab(result.resolved);
      return {
        ok: true,
        lab: checked.spec.name,
        cluster,
        issues: [],
        warnings: result.warnings,
        items: plan.items.map((i) => ({ kind: i.kind, op: i.op, description: i.description })),
        lines: formatPlan(plan),
      };
    },
  };
}
