// The lab's networks against the cluster: its zone and VNet ids free, its VLANs not another lab's (or another zone's
// on the same bridge), its subnets overlapping no subnet of the cluster or of another lab. What this lab already
// owns (its applied state) never collides with itself.

import type { LabInventory } from './inventory';
import { cidrsOverlap, formatCidr, parseCidr } from './ip';
import { formatPath, type LabIssue } from './issues';
import type { LabActual } from './model';
import { labSubnets } from './networks';
import type { LabSpec } from './spec';

interface Occupant {
  /** `vnet 'x' of zone 'y'`, `network 'x' of lab 'z'` */
  what: string;
}

export function checkNetworksOnCluster(spec: LabSpec, inventory: LabInventory, actual?: LabActual): LabIssue[] {
  const issues: LabIssue[] = [];
  const { zone, vnets } = spec.networks;
  const sdn = inventory.sdn;
  const otherLabs = (inventory.labs ?? []).filter((l) => l.name !== spec.name);
  const ownVnets = new Set((actual?.vnets ?? []).map((v) => v.name));
  const ownZone = actual?.zone?.name;

  if (zone && sdn === null) {
    issues.push({
      path: 'networks.zone',
      message: `cluster '${inventory.cluster}' has no SDN: leave out networks.zone and give each network a bridge and a VLAN tag`,
    });
    return issues;
  }
  if (zone && zone.name !== ownZone) {
    const lab = otherLabs.find((l) => l.zone?.name === zone.name);
    if (sdn?.zones.some((z) => z.zone === zone.name) || lab) {
      issues.push({
        path: 'networks.zone.name',
        message: `zone '${zone.name}' already exists on cluster '${inventory.cluster}'${lab ? ` (lab '${lab.name}')` : ''}: choose another zone name`,
      });
    }
  }

  // VLANs in use per bridge: SDN vlan zones' VNets and other labs' plain networks.
  const vlans = new Map<string, Occupant>();
  const zoneBridge = new Map((sdn?.zones ?? []).map((z) => [z.zone, z.type === 'vlan' ? z.bridge : undefined]));
  for (const v of sdn?.vnets ?? []) {
    const bridge = zoneBridge.get(v.zone);
    if (bridge && v.tag !== undefined && !ownVnets.has(v.vnet)) {
      vlans.set(`${bridge}/${v.tag}`, { what: `vnet '${v.vnet}' of zone '${v.zone}'` });
    }
  }
  for (const lab of otherLabs) {
    for (const v of lab.vnets) {
      const bridge = lab.zone ? (lab.zone.type === 'vlan' ? lab.zone.bridge : undefined) : v.bridge;
      if (bridge && v.tag !== undefined)
        vlans.set(`${bridge}/${v.tag}`, { what: `network '${v.name}' of lab '${lab.name}'` });
    }
  }

  vnets.forEach((vnet, i) => {
    const at = (key: string) => formatPath(['networks', 'vnets', i, key]);
    if (zone && !ownVnets.has(vnet.name)) {
      const existing = sdn?.vnets.find((v) => v.vnet === vnet.name);
      const lab = otherLabs.find((l) => l.zone && l.vnets.some((v) => v.name === vnet.name));
      if (existing || lab) {
        const where = existing ? `zone '${existing.zone}'` : `lab '${lab!.name}'`;
        issues.push({
          path: at('name'),
          message: `vnet '${vnet.name}' already exists on cluster '${inventory.cluster}' (${where}): VNet ids are cluster-wide`,
        });
      }
    }
    const bridge = zone ? (zone.type === 'vlan' ? zone.bridge : undefined) : vnet.bridge;
    const taken = bridge && vnet.tag !== undefined ? vlans.get(`${bridge}/${vnet.tag}`) : undefined;
    if (taken) {
      issues.push({
        path: at('tag'),
        message: `VLAN ${vnet.tag} on bridge ${bridge} is already ${taken.what}: the lab would share its network`,
      });
    }
  });

  // Subnets of the cluster and of other labs this lab must not overlap.
  const foreign: { cidr: string; what: string }[] = [];
  for (const s of sdn?.subnets ?? []) {
    if (!ownVnets.has(s.vnet)) foreign.push({ cidr: s.cidr, what: `of vnet '${s.vnet}'` });
  }
  for (const lab of otherLabs) {
    for (const v of lab.vnets) {
      for (const s of v.subnets) foreign.push({ cidr: s.cidr, what: `of lab '${lab.name}' (network '${v.name}')` });
    }
  }
  for (const mine of labSubnets(spec.networks)) {
    for (const other of foreign) {
      const block = parseCidr(other.cidr);
      if (block && cidrsOverlap(mine.cidr, block)) {
        issues.push({
          path: `${mine.path}.cidr`,
          message: `${formatCidr(mine.cidr)} overlaps ${formatCidr(block)} ${other.what}`,
        });
        break;
      }
    }
  }
  return issues;
}
