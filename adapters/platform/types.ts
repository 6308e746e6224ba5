// The platform interface: everything Overseer asks of a virtualization platform.
// Implemented by the Proxmox adapter (adapters/proxmox), which also talks to the PVE simulator.
import type { GuestType, HostInfo, VmInfo, VmPowerStatus } from '../../machines/types';

export type { GuestType };

/** A complete or partial read of one cluster. */
export interface Inventory {
  cluster: string;
  /** epoch ms (injected clock) */
  fetchedAt: number;
  /** From /cluster/status. */
  quorate: boolean;
  /**
   * True only when every part of the answer was read and is consistent. A partial answer
   * (a node's VMs missing, a section failing) is `complete: false` and never removes anything.
   */
  complete: boolean;
  vms: VmInfo[];
  hosts: HostInfo[];
  /** Nodes whose VMs could not be read (offline, 595/596). Their VMs are `unknown`, not gone. */
  unreachableNodes: string[];
}

export type PowerAction = 'start' | 'stop' | 'shutdown' | 'reboot' | 'suspend' | 'resume';

export interface CloneOptions {
  name: string;
  /** Full clone (default) or linked clone. */
  full: boolean;
  /** Node the clone lands on; default the template's node. */
  target?: string | undefined;
  /** The template's type: qemu (default) or lxc (an LXC clone takes `hostname`, not `name`). */
  type?: GuestType | undefined;
  /** A pool the clone joins. */
  pool?: string | undefined;
}

export interface MigrateOptions {
  /** The node the guest moves to. */
  target: string;
  /** Live migration (QEMU `online`; for a container `restart`: stopped, moved, started again). */
  online?: boolean | undefined;
  /** QEMU `with-local-disks`. */
  withLocalDisks?: boolean | undefined;
  type?: GuestType | undefined;
}

export interface DestroyOptions {
  type?: GuestType | undefined;
  /** PVE `purge`: also remove the guest from HA resources, backup and replication jobs (HA guests need it). */
  purge?: boolean | undefined;
}

/** A scheduled backup job (GET /cluster/backup). */
export interface BackupJob {
  id: string;
  enabled: boolean;
  schedule?: string | undefined;
  storage?: string | undefined;
  /** `all: true`, or the VMIDs it names (`vmid`), or a pool. */
  all: boolean;
  vmids: number[];
  pool?: string | undefined;
}

/** One backup archive on a storage (GET /nodes/{node}/storage/{storage}/content?content=backup). */
export interface BackupVolume {
  volid: string;
  storage: string;
  node: string;
  vmid: number;
  /** epoch seconds, as PVE reports */
  ctime: number;
  /** vma.zst, tar.zst, pbs-vm, pbs-ct, ... */
  format?: string | undefined;
  size?: number | undefined;
}

/** Backup jobs and archives of a cluster; `failedStorages` names storages that could not be read. */
export interface BackupListing {
  jobs: BackupJob[];
  volumes: BackupVolume[];
  failedStorages: string[];
}

/** A task started on the platform. */
export interface TaskRef {
  upid: string;
  node: string;
}

export interface TaskStatus {
  upid: string;
  node: string;
  type: string;
  /** VMID (or other object id) the task works on. */
  id?: string | undefined;
  /** Who issued it: user@realm, or user@realm!token for an API token (as in the UPID). */
  user?: string | undefined;
  status: 'running' | 'stopped';
  /** 'OK' on success; an error text otherwise. Present once stopped. */
  exitstatus?: string | undefined;
  /** epoch seconds, as PVE reports */
  starttime: number;
  endtime?: number | undefined;
}

/** One snapshot of a guest, as GET /nodes/{node}/{qemu|lxc}/{vmid}/snapshot lists it (PVE's `current` entry left out). */
export interface SnapshotInfo {
  name: string;
  description?: string | undefined;
  /** epoch seconds */
  snaptime?: number | undefined;
  parent?: string | undefined;
}

export interface WaitOptions {
  timeoutMs: number;
  signal?: AbortSignal | undefined;
  onProgress?: ((status: TaskStatus) => void) | undefined;
}

/** What an SDN object's change is while it waits for `applySdn` (PVE's `state`). */
export type SdnChangeState = 'new' | 'changed' | 'deleted';

/** An SDN zone as it will be once applied (GET /cluster/sdn/zones?pending=1). */
export interface SdnZone {
  zone: string;
  /** Zone plugin: simple, vlan, qinq, vxlan, evpn, faucet. */
  type: string;
  /** vlan zones: the node bridge the zone's VLANs are made on. */
  bridge?: string | undefined;
  /** The nodes the zone exists on; undefined = every node. */
  nodes?: string[] | undefined;
  ipam?: string | undefined;
  /** DHCP backend (`dnsmasq`). */
  dhcp?: string | undefined;
  mtu?: number | undefined;
  /** Waiting for applySdn; undefined when the running network has it as it is. */
  state?: SdnChangeState | undefined;
}

/** An SDN VNet: the bridge guests' NICs name. */
export interface SdnVnet {
  vnet: string;
  zone: string;
  /** VLAN tag (vlan, qinq zones) or VXLAN VNI. */
  tag?: number | undefined;
  alias?: string | undefined;
  vlanaware?: boolean | undefined;
  state?: SdnChangeState | undefined;
}

/** A DHCP range of a subnet (both ends included). */
export interface SdnDhcpRange {
  start: string;
  end: string;
}

/** A subnet of a VNet. */
export interface SdnSubnet {
  /** PVE's id: `<zone>-<network>-<mask>` (e.g. `lab-10.10.0.0-24`). */
  id: string;
  vnet: string;
  cidr: string;
  gateway?: string | undefined;
  /** Masquerade the subnet's traffic out of the node. */
  snat: boolean;
  dhcpRanges: SdnDhcpRange[];
  state?: SdnChangeState | undefined;
}

/** The cluster's SDN: every object with its pending state. */
export interface SdnConfig {
  zones: SdnZone[];
  vnets: SdnVnet[];
  subnets: SdnSubnet[];
  /** True when any change waits for applySdn. */
  pending: boolean;
}

export interface SdnZoneSpec {
  /** 2 to 8 letters and digits, starting with a letter. */
  zone: string;
  /** simple (an isolated bridge per VNet) or vlan (a VLAN on `bridge` per VNet); others as PVE has them. */
  type: string;
  /** vlan zones: the node bridge (required there). */
  bridge?: string | undefined;
  nodes?: string[] | undefined;
  ipam?: string | undefined;
  dhcp?: 'dnsmasq' | undefined;
  mtu?: number | undefined;
}

export interface SdnVnetSpec {
  /** 2 to 8 letters and digits, starting with a letter. */
  vnet: string;
  zone: string;
  /** Required in a vlan zone (1..4096, unique in the zone); refused in a simple zone. */
  tag?: number | undefined;
  alias?: string | undefined;
  vlanaware?: boolean | undefined;
}

export interface SdnSubnetSpec {
  vnet: string;
  /** The network, e.g. 10.10.0.0/24. */
  cidr: string;
  /** Must lie in the subnet. */
  gateway?: string | undefined;
  snat?: boolean | undefined;
  dhcpRanges?: SdnDhcpRange[] | undefined;
}

/** A resource pool (GET /pools). */
export interface PoolInfo {
  poolid: string;
  comment?: string | undefined;
}

/** One network device of a guest. */
export interface GuestNic {
  /** N of `netN` (0..31). */
  index: number;
  /** A node bridge (vmbr0) or an SDN VNet. */
  bridge: string;
  /** VLAN tag on the bridge (1..4094). */
  tag?: number | undefined;
  /** QEMU NIC model (default virtio); ignored for containers. */
  model?: string | undefined;
  /** Fixed MAC address; PVE makes one up when absent. */
  macaddr?: string | undefined;
  firewall?: boolean | undefined;
  /**
   * IPv4 address: `dhcp` or a CIDR (10.10.0.5/24). A VM gets it through cloud-init (`ipconfigN`), a container in
   * its `netN` itself.
   */
  ip?: string | undefined;
  /** IPv4 gateway (needs a CIDR `ip`). */
  gw?: string | undefined;
  /** Container interface name (default eth<index>); ignored for VMs. */
  name?: string | undefined;
}

/** Settings of a guest's config (only what is given changes). */
export interface GuestSettings {
  /** VM name or container hostname (a DNS name). */
  name?: string | undefined;
  cores?: number | undefined;
  /** MiB. */
  memory?: number | undefined;
  tags?: string[] | undefined;
  description?: string | undefined;
  nics?: GuestNic[] | undefined;
  /** Cloud-init (VMs): the default user, its password, its SSH public keys (one per entry), DNS. */
  ciuser?: string | undefined;
  cipassword?: string | undefined;
  sshKeys?: string[] | undefined;
  nameserver?: string | undefined;
  searchdomain?: string | undefined;
  /** Config options to remove (e.g. `net1`, `ipconfig1`). */
  delete?: string[] | undefined;
  /** Refuse the change when the config's digest is no longer this one (read with GET .../config). */
  digest?: string | undefined;
}

/** A guest's status and lock as GET .../status/current answers them (Platform.guestState). */
export interface GuestState {
  status: VmPowerStatus;
  lock?: string | undefined;
}

export interface Platform {
  readonly cluster: string;
  /** Reads /cluster/resources and /cluster/status. Throws PlatformUnavailableError when the cluster can't be read. */
  inventory(): Promise<Inventory>;
  // Every guest call takes the guest's type last (default qemu): /nodes/{node}/qemu/... or /nodes/{node}/lxc/...
  clone(node: string, template: number, newid: number, options: CloneOptions): Promise<TaskRef>;
  /** suspend and resume are QEMU only. */
  power(node: string, vmid: number, action: PowerAction, type?: GuestType): Promise<TaskRef>;
  snapshot(node: string, vmid: number, snapname: string, description?: string, type?: GuestType): Promise<TaskRef>;
  /** The guest's snapshots (without the `current` pseudo-snapshot). Throws when they cannot be read. */
  listSnapshots(node: string, vmid: number, type?: GuestType): Promise<SnapshotInfo[]>;
  rollback(node: string, vmid: number, snapname: string, type?: GuestType): Promise<TaskRef>;
  deleteSnapshot(node: string, vmid: number, snapname: string, type?: GuestType): Promise<TaskRef>;
  /** The guest's power state now (GET .../status/current). Throws when it cannot be read. */
  vmStatus(node: string, vmid: number, type?: GuestType): Promise<VmPowerStatus>;
  /**
   * What the inventory would list for the guest now, of what a task on it changes in place (GET .../status/current):
   * its status in /cluster/resources' words (qmpstatus not read) and its config lock. Throws when it cannot be read.
   */
  guestState(node: string, vmid: number, type?: GuestType): Promise<GuestState>;
  /** Deletes the guest and its disks (destroy-unreferenced-disks). */
  destroy(node: string, vmid: number, options?: DestroyOptions): Promise<TaskRef>;
  /**
   * Starts a migration. For an HA-managed guest PVE answers a `hamigrate` task that only hands the move to the HA
   * manager; the move itself is a second task (`qmigrate`/`vzmigrate`) on the source node, which the caller finds
   * with recentTasks and waits for.
   */
  migrate(node: string, vmid: number, options: MigrateOptions): Promise<TaskRef>;
  /** Backup jobs and every backup archive on the cluster's backup storages (vzdump and PBS). */
  listBackups(): Promise<BackupListing>;
  taskStatus(task: TaskRef): Promise<TaskStatus>;
  /** Polls until `status=stopped`; resolves only on `exitstatus=OK`, else throws TaskFailedError. */
  waitTask(task: TaskRef, options: WaitOptions): Promise<TaskStatus>;
  /** Recent tasks on a node for one guest (to adopt a task issued before a crash instead of issuing it again). */
  recentTasks(node: string, vmid: number, since: number): Promise<TaskStatus[]>;
  /** A free VMID (GET /cluster/nextid). */
  nextId(): Promise<number>;

  // SDN: every change waits (pending) until applySdn commits it and reloads each node's network.
  /** Zones, VNets and subnets as they will be once applied, each with its pending state. Throws when unreadable. */
  readSdn(): Promise<SdnConfig>;
  /** Creates a zone (pending). */
  createSdnZone(spec: SdnZoneSpec): Promise<void>;
  /** Creates a VNet in a zone (pending). */
  createSdnVnet(spec: SdnVnetSpec): Promise<void>;
  /** Creates a subnet of a VNet (pending); resolves to its id (`<zone>-<network>-<mask>`). */
  createSdnSubnet(spec: SdnSubnetSpec): Promise<string>;
  /** Deletes a zone (pending); PVE refuses while a VNet is in it. */
  deleteSdnZone(zone: string): Promise<void>;
  /** Deletes a VNet (pending); PVE refuses while it has subnets. */
  deleteSdnVnet(vnet: string): Promise<void>;
  /** Deletes a subnet (pending) by its id. */
  deleteSdnSubnet(vnet: string, subnet: string): Promise<void>;
  /** PUT /cluster/sdn: commits the pending changes; the task reloads the network of every node. */
  applySdn(): Promise<TaskRef>;

  // Resource pools (the Proxmox web UI groups a pool's guests).
  /** The cluster's pools. */
  listPools(): Promise<PoolInfo[]>;
  createPool(poolid: string, comment?: string): Promise<void>;
  /** Adds guests to a pool; `allowMove` takes them out of another pool (PVE refuses otherwise). */
  addPoolMembers(poolid: string, vmids: number[], options?: { allowMove?: boolean | undefined }): Promise<void>;
  removePoolMembers(poolid: string, vmids: number[]): Promise<void>;
  /** Deletes a pool; PVE refuses while it has members. */
  deletePool(poolid: string): Promise<void>;

  /**
   * Changes a guest's config: a VM through POST .../config, which answers a task (returned); a container through the
   * synchronous PUT (null). A running guest takes what needs no restart at once; the rest applies at its next start.
   */
  configureGuest(node: string, vmid: number, settings: GuestSettings, type?: GuestType): Promise<TaskRef | null>;
  /**
   * Grows a disk (PUT .../resize, a task): `size` is `+<n>[KMGT]` (added) or `<n>[KMGT]` (the new size); PVE refuses
   * to shrink. `disk` is e.g. scsi0 (VM) or rootfs (container).
   */
  resizeDisk(node: string, vmid: number, disk: string, size: string, type?: GuestType): Promise<TaskRef>;
  /**
   * Whether the VM's QEMU guest agent answers a ping: false when PVE says the agent is not configured or not
   * running, or the VM is not running. Throws only when the platform cannot answer.
   */
  agentPing(node: string, vmid: number): Promise<boolean>;
}
