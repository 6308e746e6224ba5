// The simulator's SDN and resource pool state (pve-network's /etc/pve/sdn/*.cfg and .running-config, pve-access-
// control's user.cfg pools).

/** A value of an SDN section as PVE keeps it: numbers and booleans as numbers, `dhcp-range` as a list. */
export type SdnValue = string | number | string[];

/** One section of zones.cfg, vnets.cfg or subnets.cfg: its plugin type and options (the id is the record key). */
export interface SdnSection {
  /** Zone plugin type (simple, vlan, ...), `vnet` or `subnet`. */
  type: string;
  [option: string]: SdnValue;
}

/** The three SDN config files: sections by id. Subnet ids are `<zone>-<network>-<mask>`. */
export interface SdnConfig {
  zones: Record<string, SdnSection>;
  vnets: Record<string, SdnSection>;
  subnets: Record<string, SdnSection>;
}

export interface SimSdn {
  /** What the API edits (pending until applied). */
  config: SdnConfig;
  /** What the last `PUT /cluster/sdn` committed (.running-config); undefined before the first apply. */
  running?: (SdnConfig & { version: number }) | undefined;
  /** The VNet bridges each node's network has, as its last network reload left them. */
  nodeVnets: Record<string, string[]>;
}

/** A resource pool (user.cfg); its guests are the ones whose SimVm.pool names it. */
export interface SimPool {
  comment?: string | undefined;
  /** Storage members. */
  storage: string[];
  /** VMIDs made members while no guest had them (user.cfg keeps them; they block nothing). */
  vmids: number[];
}

export interface SimPoolSeed {
  poolid: string;
  comment?: string | undefined;
}

/** An empty SDN: nothing configured, nothing applied. */
export function emptySdn(nodes: Iterable<string>): SimSdn {
  return {
    config: { zones: {}, vnets: {}, subnets: {} },
    nodeVnets: Object.fromEntries([...nodes].map((n) => [n, []])),
  };
}
