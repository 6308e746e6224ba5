// The items of a lab plan (what `lab plan` shows and `apply` runs), and their one-line descriptions.
import type { LabIssue } from './issues';
import type { ActualVnet, MemberNic, ResolvedMember } from './model';
import type { LabSubnet, LabZone } from './spec';
import { formatMiB } from './units';

/** One field of a member, vnet or subnet that differs: shown as `field from → to`. */
export interface FieldChange {
  /** cores, memory, disk, tags, name, node, net0…, cloudInit.user, tag, gateway, dhcp … */
  field: string;
  from: string;
  to: string;
}

/** The zone as the plan creates it: DHCP on when a subnet has a range (simple zones only). */
export type PlannedZone = LabZone & { dhcp: boolean };

export type LabPlanItem =
  | { kind: 'pool'; op: 'create' | 'remove'; pool: string; description: string }
  | {
      kind: 'zone';
      op: 'create' | 'change' | 'remove';
      zone: PlannedZone;
      changes?: FieldChange[];
      description: string;
    }
  | {
      kind: 'vnet';
      op: 'create' | 'change' | 'remove';
      zone: string;
      vnet: ActualVnet;
      changes?: FieldChange[];
      description: string;
    }
  | {
      kind: 'subnet';
      op: 'create' | 'change' | 'remove';
      zone: string;
      vnet: string;
      subnet: LabSubnet;
      changes?: FieldChange[];
      description: string;
    }
  /** PVE SDN changes are pending until applied cluster-wide (PUT /cluster/sdn). */
  | { kind: 'sdn'; op: 'apply'; description: string }
  /** Clone, configure and start a member; `replaces` is the VMID of a member that is gone. */
  | { kind: 'member'; op: 'create'; member: ResolvedMember; replaces?: number; description: string }
  /** Destroy a member and create it anew (what it is cloned from changes, or its disk would shrink). */
  | {
      kind: 'member';
      op: 'replace';
      member: ResolvedMember;
      vmid: number;
      node: string;
      reasons: string[];
      description: string;
    }
  /** Change a member's configuration in place (`node`: migrate it); `restart` when a running member must reboot for it. */
  | {
      kind: 'member';
      op: 'change';
      member: ResolvedMember;
      vmid: number;
      node: string;
      changes: FieldChange[];
      restart: boolean;
      description: string;
    }
  /** Start a stopped member (resume a paused one). */
  | {
      kind: 'member';
      op: 'start';
      member: ResolvedMember;
      vmid: number;
      node: string;
      from: string;
      description: string;
    }
  /** Destroy a member the file no longer has (`gone`: it is already gone, only the record goes). */
  | { kind: 'member'; op: 'remove'; name: string; vmid: number; node: string; gone: boolean; description: string };

export interface LabPlan {
  lab: string;
  cluster: string;
  /** In the order they run: pool, networks, SDN apply, removals, members by wave, network removals, SDN apply. */
  items: LabPlanItem[];
  /** Differences the plan cannot make (a zone's type, the pool's name): nothing may be applied while there are any. */
  issues: LabIssue[];
}

export const nicText = (nic: MemberNic | undefined): string => {
  if (!nic) return '(none)';
  const parts = [`bridge=${nic.bridge}`];
  if (nic.tag !== undefined) parts.push(`tag=${nic.tag}`);
  if (nic.address !== undefined) parts.push(`ip=${nic.address}`);
  if (nic.gateway !== undefined) parts.push(`gw=${nic.gateway}`);
  return parts.join(',');
};

export const subnetText = (s: LabSubnet): string => {
  const extra = [
    ...(s.gateway ? [`gateway ${s.gateway}`] : []),
    ...(s.dhcp ? [`DHCP ${s.dhcp.start}–${s.dhcp.end}`] : []),
  ];
  return extra.length ? `${s.cidr} (${extra.join(', ')})` : s.cidr;
};

export const zoneText = (z: LabZone): string => `'${z.name}' (${z.type}${z.bridge ? ` on ${z.bridge}` : ''})`;

export const changesText = (changes: readonly FieldChange[]): string =>
  changes.map((c) => `${c.field} ${c.from} → ${c.to}`).join(', ');

/** `router: linked clone of 'debian-12-template' (9000) on pve1, 2 cores, 1 GiB, 32 GiB disk, 3 NICs, wave 0` */
export function memberText(m: ResolvedMember): string {
  const parts = [`${m.clone} clone of '${m.template.name}' (${m.template.vmid}) on ${m.node}`];
  if (m.config.cores !== undefined) parts.push(`${m.config.cores} core${m.config.cores === 1 ? '' : 's'}`);
  parts.push(formatMiB(m.memory));
  if (m.config.disk !== undefined) parts.push(`${formatMiB(m.config.disk)} disk`);
  if (m.config.nics !== undefined) parts.push(`${m.config.nics.length} NIC${m.config.nics.length === 1 ? '' : 's'}`);
  parts.push(`wave ${m.wave}`);
  return `${m.name}: ${parts.join(', ')}`;
}

/** Terraform-like lines: `+ create …`, `~ change …`, `± replace …`, `- remove …`, `> start …`, `* apply …`. */
export function formatPlan(plan: LabPlan): string[] {
  const mark: Record<LabPlanItem['op'], string> = {
    create: '+',
    change: '~',
    replace: '±',
    remove: '-',
    start: '>',
    apply: '*',
  };
  const lines = plan.items.map((i) => `${mark[i.op]} ${i.description}`);
  const count = (op: LabPlanItem['op']) => plan.items.filter((i) => i.op === op).length;
  lines.push(
    plan.items.length === 0
      ? `lab '${plan.lab}': no changes, the cluster matches the file`
      : `lab '${plan.lab}': ${count('create')} to create, ${count('change')} to change, ${count('replace')} to replace, ` +
          `${count('start')} to start, ${count('remove')} to remove`,
  );
  for (const issue of plan.issues) lines.push(`! ${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
  return lines;
}
