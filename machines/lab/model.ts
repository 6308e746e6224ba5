// The lab as Overseer works with it once the file is checked against a cluster (ResolvedLab: templates found,
// members placed, each member's desired configuration), and as it stands on the cluster once applied (LabActual).
// The plan (plan.ts) is the difference of the two. Pure types.
import type { GuestType, VmPowerStatus } from '../types';
import type { LabMember } from './graph';
import type { CloneMode, LabCloudInit, LabProbe, LabSpec, LabSubnet, LabZone } from './spec';

/** One NIC as PVE sees it: `netN: bridge=<vnet or bridge>[,tag=N]` and `ipconfigN: ip=…[,gw=…]`. */
export interface MemberNic {
  /** The SDN VNet or the Linux bridge. */
  bridge: string;
  tag?: number | undefined;
  /** 'dhcp' or an address with prefix (`10.42.1.11/24`); absent: not set through cloud-init. */
  address?: string | undefined;
  gateway?: string | undefined;
}

/**
 * A member's configuration. On the desired side only what the file sets is managed (an absent field is left as
 * it is); on the actual side every field is what the cluster reports.
 */
export interface MemberConfig {
  cores?: number | undefined;
  /** MiB */
  memory?: number | undefined;
  /** MiB, the boot disk */
  disk?: number | undefined;
  tags?: string[] | undefined;
  /** Absent on the desired side: the template's NICs are kept. */
  nics?: MemberNic[] | undefined;
  cloudInit?: LabCloudInit | undefined;
}

export interface ResolvedTemplate {
  vmid: number;
  name: string;
  node: string;
  type: GuestType;
  /** MiB */
  memory: number;
  /** MiB */
  disk: number;
}

export interface ResolvedMember extends LabMember {
  /** The PVE guest name: `<lab>-<member>`. */
  guestName: string;
  type: GuestType;
  template: ResolvedTemplate;
  clone: CloneMode;
  /** Where it runs (pinned, placed by free memory, or where it already is). */
  node: string;
  placement: 'pinned' | 'automatic' | 'existing';
  /** Its dependency level (0 first). */
  wave: number;
  config: MemberConfig;
  /** MiB it runs with (the file's memory or the template's). */
  memory: number;
  probe?: LabProbe | undefined;
}

/** The desired lab: the file, checked and resolved against one cluster. */
export interface ResolvedLab {
  spec: LabSpec;
  members: ResolvedMember[];
  /** Member names by dependency level. */
  waves: string[][];
}

/** A network object of the lab as it exists on the cluster (SDN VNet) or as the lab record remembers it. */
export interface ActualVnet {
  name: string;
  tag?: number | undefined;
  bridge?: string | undefined;
  subnets: LabSubnet[];
}

/** A member of an applied lab. */
export interface ActualMember {
  name: string;
  vm: string;
  ordinal: number;
  vmid: number;
  node: string;
  type: GuestType;
  /** `missing`: the lab's record has it, the cluster does not (destroyed behind Overseer's back). */
  status: VmPowerStatus | 'missing';
  /** The VMID it was cloned from, and how. */
  template: number;
  clone: CloneMode;
  config: MemberConfig;
}

/** An applied lab as it stands: what the lab's record holds, refreshed from the cluster. */
export interface LabActual {
  name: string;
  cluster: string;
  /** The PVE pool, when it exists. */
  pool?: string | undefined;
  /** The lab's SDN zone, when it has one. */
  zone?: LabZone | undefined;
  /** The lab's SDN VNets (plain bridge networks are not objects on the cluster and are not listed). */
  vnets: ActualVnet[];
  members: ActualMember[];
}
