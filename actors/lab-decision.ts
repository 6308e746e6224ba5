// What a lab is judged on: the cluster as a lab sees it (guests and nodes from the view, SDN objects read from the
// platform, the networks of Overseer's other live labs), and the lab gate's decision on a plan with the live facts,
// recorded in the audit log.
import type { Platform } from '../adapters/platform/types';
import { evaluateLabGate } from '../machines/gate/lab-gate';
import type { LabInventory } from '../machines/lab';
import type { LabGateInput } from '../machines/lab.machine';
import type { GateResult } from '../machines/types';
import { OVERSEER_ID } from '../machines/types';
import { labInventory } from './lab-queries';
import type { OverseerDeps } from './overseer-deps';
import type { SystemView } from './system-view';

type Deps = Pick<OverseerDeps, 'clock' | 'config' | 'store' | 'platforms'> & { view: SystemView };

/** The cluster as a lab sees it, with Overseer's other live labs' networks (a lab's are isolated from them). */
export async function labInventoryOf(
  deps: Deps,
  cluster: string,
  platform: Platform,
  lab: string,
): Promise<LabInventory> {
  const base = await labInventory(deps, cluster, platform);
  const labs = deps.store.labs
    .live()
    .filter((r) => r.cluster === cluster && r.name !== lab)
    .map((r) => ({ name: r.name, zone: r.spec.networks.zone, vnets: r.spec.networks.vnets }));
  return { ...base, labs };
}

/** The lab gate on the live facts; the decision and each check are audited (`lab.decided`). */
export function decideLab(deps: Deps, input: LabGateInput): GateResult {
  const { clock, config, view, store } = deps;
  const now = clock.now();
  const result = evaluateLabGate({
    now,
    config: config.gate,
    vms: view.vms,
    hosts: view.hosts,
    clusters: view.clusters,
    recentDestructive: view.recentDestructive(now, config.gate.massOperation.windowSeconds * 1000),
    maintenance: view.maintenance.windows(now),
    plan: input.plan,
    requester: input.requester,
    force: false,
    origin: input.requester.id === OVERSEER_ID ? 'overseer' : 'human',
  });
  store.audit.append({
    at: now,
    actor: OVERSEER_ID,
    kind: 'lab.decided',
    data: { lab: input.lab, cluster: input.cluster, decision: result.decision, checks: result.checks },
  });
  return result;
}
