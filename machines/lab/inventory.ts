// What lab validation needs to know about a cluster, handed in as plain data (read by the runtime, never here).
import type { HostInfo, VmInfo } from '../types';

/** A guest of the cluster (VmInfo carries all of it). */
export type LabInventoryGuest = Pick<VmInfo, 'vmid' | 'name' | 'node' | 'template' | 'maxmem' | 'maxdisk'> &
  Partial<Pick<VmInfo, 'type' | 'pool' | 'status'>> & {
    /**
     * False when the guest's disks are on storage local to its node: PVE then clones it only onto that node
     * (`can't clone VM to node … (VM uses local storage)`). Absent: not known, not checked.
     */
    sharedStorage?: boolean | undefined;
  };

/** A node (HostInfo carries all of it); `mem` and `maxmem` in bytes. */
export type LabInventoryHost = Pick<HostInfo, 'node' | 'status' | 'mem' | 'maxmem'>;

/** The cluster's SDN objects (GET /cluster/sdn/zones, /vnets, /vnets/{vnet}/subnets), the lab's own included. */
export interface LabSdnInventory {
  zones: { zone: string; type: string; bridge?: string | undefined }[];
  vnets: { vnet: string; zone: string; tag?: number | undefined }[];
  subnets: { cidr: string; vnet: string }[];
}

/** Another lab Overseer runs on the cluster, with the networks its record holds (plain bridge ones included). */
export interface OtherLabNetworks {
  name: string;
  zone?: { name: string; type: string; bridge?: string | undefined } | undefined;
  vnets: { name: string; tag?: number | undefined; bridge?: string | undefined; subnets: { cidr: string }[] }[];
}

export interface LabInventory {
  cluster: string;
  guests: readonly LabInventoryGuest[];
  hosts: readonly LabInventoryHost[];
  /** The cluster's SDN objects; null: the cluster has no SDN; undefined: not known (SDN checks skipped). */
  sdn?: LabSdnInventory | null | undefined;
  /** Overseer's other labs on this cluster. */
  labs?: readonly OtherLabNetworks[] | undefined;
  /** Fraction of each node's memory kept free (the gate's capacity reserve); default 0. */
  memReserveFraction?: number | undefined;
}
