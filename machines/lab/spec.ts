// The lab file as plain types: what a parsed, defaulted lab file says (protocol/lab-file.ts parses text into this).
// Pure: no zod, no I/O. Sizes are MiB, durations milliseconds; keys are the file's keys, so an index path into a
// LabSpec (`vms[2].networks[0].vnet`) is the same path in the file.
export const LAB_FILE_VERSION = 1;
export const ZONE_TYPES = ['simple', 'vlan'] as const;
export type ZoneType = (typeof ZONE_TYPES)[number];
export const CLONE_MODES = ['linked', 'full'] as const;
export type CloneMode = (typeof CLONE_MODES)[number];
export const FAILURE_POLICIES = ['rollback', 'keep'] as const;
export type FailurePolicy = (typeof FAILURE_POLICIES)[number];
export const DRIFT_POLICIES = ['repair', 'report'] as const;
export type DriftPolicy = (typeof DRIFT_POLICIES)[number];
export const PROBE_TYPES = ['agent', 'tcp', 'ssh'] as const;
export type ProbeType = (typeof PROBE_TYPES)[number];

/** Defaults the parser fills in. */
export const LAB_DEFAULTS = {
  clone: 'linked' as CloneMode,
  count: 1,
  parallelism: 4,
  onFailure: 'rollback' as FailurePolicy,
  drift: 'report' as DriftPolicy,
  /** A readiness probe's timeout: 5 minutes. */
  probeTimeoutMs: 5 * 60_000,
} as const;

/** A lab: its networks and VMs, deployed, changed and torn down as one gated unit. */
export interface LabSpec {
  version: typeof LAB_FILE_VERSION;
  /** A DNS label; also the PVE pool (unless `pool` says otherwise) and the prefix of every member's guest name. */
  name: string;
  /** The Overseer cluster it runs on. */
  cluster: string;
  description?: string | undefined;
  /** The PVE resource pool holding the lab's guests (default: the lab's name). */
  pool: string;
  networks: LabNetworks;
  vms: LabVm[];
  policy: LabPolicy;
}

/**
 * The lab's own networks, isolated from other labs: an SDN zone with VNets, or (where the cluster has no SDN)
 * plain bridges with a VLAN tag per network.
 */
export interface LabNetworks {
  /** The lab's SDN zone; absent: every VNet is a plain bridge + VLAN tag. */
  zone?: LabZone | undefined;
  vnets: LabVnet[];
}

export interface LabZone {
  /** PVE zone id: letters and digits, at most 8 (default: from the lab's name). */
  name: string;
  /** simple: one isolated bridge per node, local to that node (so the whole lab runs on one node); vlan: VLANs on a bridge. */
  type: ZoneType;
  /** vlan zones: the bridge the VLANs ride on. */
  bridge?: string | undefined;
}

export interface LabVnet {
  /** PVE VNet id (SDN: letters and digits, at most 8), or the lab's name for a plain bridge network. */
  name: string;
  /** VLAN tag: required in a vlan zone and for a plain bridge network, refused in a simple zone. */
  tag?: number | undefined;
  /** A plain bridge network (no zone): the bridge its VLAN rides on. */
  bridge?: string | undefined;
  subnets: LabSubnet[];
}

export interface LabSubnet {
  /** Network address and prefix, e.g. 10.42.1.0/24. */
  cidr: string;
  gateway?: string | undefined;
  /** PVE serves DHCP in simple zones only, and needs the subnet's gateway. */
  dhcp?: { start: string; end: string } | undefined;
}

export interface LabVm {
  /** A DNS label; members are `<name>` (count 1) or `<name>-1` … `<name>-<count>`. */
  name: string;
  /** The template (or, for a full clone, any guest) by name or VMID. */
  template: string | number;
  /** linked (default; needs a template) or full. */
  clone: CloneMode;
  /** Pin the members to a node; absent: placed automatically by free memory. */
  node?: string | undefined;
  cores?: number | undefined;
  /** MiB; absent: the template's. */
  memory?: number | undefined;
  /** MiB, the boot disk's size (it can only grow from the template's); absent: the template's. */
  disk?: number | undefined;
  /** Its NICs; absent: the template's are kept as they are. */
  networks?: LabNic[] | undefined;
  /** PVE tags; absent: left as cloned. */
  tags?: string[] | undefined;
  count: number;
  /** Names of other VMs (all their members) or of single members, started before this one. */
  dependsOn: string[];
  probe?: LabProbe | undefined;
  cloudInit?: LabCloudInit | undefined;
}

/** One NIC: on one of the lab's networks (`vnet`) or, as an uplink out of the lab, on a bridge. */
export interface LabNic {
  vnet?: string | undefined;
  bridge?: string | undefined;
  /** VLAN tag on an uplink bridge. */
  tag?: number | undefined;
  /** 'dhcp', or an address (with or without prefix) set through cloud-init; members after the first count up. */
  address?: string | undefined;
  gateway?: string | undefined;
}

export type LabProbe =
  | { type: 'agent'; timeout: number }
  | { type: 'tcp'; port: number; timeout: number }
  | { type: 'ssh'; command: string; user?: string | undefined; timeout: number };

export interface LabCloudInit {
  user?: string | undefined;
  sshKeys?: string[] | undefined;
  nameserver?: string | undefined;
  searchDomain?: string | undefined;
}

export interface LabPolicy {
  /** Members cloned (and started) at once within a dependency wave. */
  parallelism: number;
  onFailure: FailurePolicy;
  /** ms after ready when the lab is torn down; absent: never. */
  ttl?: number | undefined;
  /** A member gone or stopped behind Overseer's back: repair it through the gate, or only report it. */
  drift: DriftPolicy;
}

/** `<vm>` for a single member, `<vm>-<n>` (n from 1) when the VM has a count. */
export function memberName(vm: string, ordinal: number, count: number): string {
  return count === 1 ? vm : `${vm}-${ordinal}`;
}

/** The PVE guest name (and cloud-init hostname) of a member: `<lab>-<member>`. */
export function guestName(lab: string, member: string): string {
  return `${lab}-${member}`;
}

/** The zone id a lab gets when its file names none: its name's letters and digits, at most 8, starting with a letter. */
export function defaultZoneName(lab: string): string {
  const alnum = lab.toLowerCase().replace(/[^a-z0-9]/g, '');
  const lettered = /^[a-z]/.test(alnum) ? alnum : `l${alnum}`;
  return lettered.slice(0, 8);
}
