// PVE SDN through /cluster/sdn (pve-network): zones, VNets and subnets. Every change is pending until applySdn
// (PUT /cluster/sdn) commits it; its reloadnetworkall task then reloads every node's network. readSdn reads the
// `pending=1` view: each object's running values with the changes waiting for it and its state (new, changed,
// deleted), merged here into what the object will be once applied.
import type { Proxmox } from 'proxmox-api';
import type { Log } from '../log';
import { MalformedAnswerError } from '../platform/errors';
import type {
  Platform,
  SdnChangeState,
  SdnConfig,
  SdnDhcpRange,
  SdnSubnet,
  SdnSubnetSpec,
  SdnVnet,
  SdnVnetSpec,
  SdnZone,
  SdnZoneSpec,
  TaskRef,
} from '../platform/types';
import type { PveClient } from './client';
import { checkNode, type PveParams, pveBool } from './guest-paths';
import { readTaskRef } from './tasks';
import { isRecord, type Wire } from './wire';

export interface SdnDeps {
  cluster: string;
  client: PveClient;
  log: Log;
}

export type SdnOps = Pick<
  Platform,
  | 'readSdn'
  | 'createSdnZone'
  | 'createSdnVnet'
  | 'createSdnSubnet'
  | 'deleteSdnZone'
  | 'deleteSdnVnet'
  | 'deleteSdnSubnet'
  | 'applySdn'
>;

interface Endpoint {
  $get(params?: PveParams): Promise<unknown>;
  $post(params?: PveParams | Record<string, unknown>): Promise<unknown>;
  $put(params?: PveParams): Promise<unknown>;
  $delete(params?: PveParams): Promise<unknown>;
}
interface SdnEndpoint extends Endpoint {
  zones: Endpoint & { $(zone: string): Endpoint };
  vnets: Endpoint & { $(vnet: string): Endpoint & { subnets: Endpoint & { $(subnet: string): Endpoint } } };
}

/** proxmox-api's /cluster/sdn (its generated types predate some of PVE's parameters; every one is checked here). */
const sdnApi = (api: Proxmox.Api): SdnEndpoint => api.cluster.sdn as unknown as SdnEndpoint;

/** pve-network's zone and VNet ids: a letter, then letters and digits, 2 to 8 characters. */
export const SDN_ID_RE = /^[a-z][a-z0-9]{1,7}$/i;
const CIDR_V4_RE =
  /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\/(?:[89]|[12]\d|3[0-2])$/;
const IP_RE = /^(?:[0-9.]+|[0-9a-f:]+)$/i;

function checkSdnId(id: string, what: string): string {
  if (typeof id !== 'string' || !SDN_ID_RE.test(id)) {
    throw new RangeError(`invalid SDN ${what} id ${JSON.stringify(id)} (a letter, then letters or digits; 2 to 8)`);
  }
  return id;
}

/** A subnet's CIDR: IPv4 here (prefix 8..32) or IPv6 as PVE takes it. */
function checkCidr(cidr: string): string {
  const v6 = /^[0-9a-f:]+\/(\d+)$/i.exec(cidr);
  if (!CIDR_V4_RE.test(cidr) && !(v6 && Number(v6[1]) >= 8 && Number(v6[1]) <= 128)) {
    throw new RangeError(`invalid subnet ${JSON.stringify(cidr)} (a CIDR network such as 10.10.0.0/24)`);
  }
  return cidr;
}

const STATES: readonly string[] = ['new', 'changed', 'deleted'];

/** An object of the pending view: its value of `key` once applied (PVE marks a removed option 'deleted'). */
function appliedValue(e: Wire, key: string): unknown {
  const pending = isRecord(e.pending) ? e.pending : {};
  if (key in pending) return pending[key] === 'deleted' ? undefined : pending[key];
  return e[key];
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined =>
  typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : undefined;
const flag = (v: unknown): boolean => v === 1 || v === '1' || v === true;
const stateOf = (e: Wire): SdnChangeState | undefined =>
  typeof e.state === 'string' && STATES.includes(e.state) ? (e.state as SdnChangeState) : undefined;

/** `start-address=<ip>,end-address=<ip>` (as written) or `{ start-address, end-address }` (as PVE parses it). */
function readRange(v: unknown): SdnDhcpRange | undefined {
  const fields: Record<string, string> = {};
  if (typeof v === 'string') {
    for (const part of v.split(',')) {
      const [k, val] = part.split('=');
      if (k && val) fields[k] = val;
    }
  } else if (isRecord(v)) {
    for (const [k, val] of Object.entries(v)) if (typeof val === 'string') fields[k] = val;
  }
  const start = fields['start-address'];
  const end = fields['end-address'];
  return start && end ? { start, end } : undefined;
}

export function createSdnOps({ cluster, client, log }: SdnDeps): SdnOps {
  const list = async (path: string, call: (api: Proxmox.Api) => Promise<unknown>): Promise<Wire[]> => {
    const data = await client.call(`GET ${path}`, call, { retryLocks: false });
    if (!Array.isArray(data) || !data.every(isRecord)) {
      throw new MalformedAnswerError(`${cluster}: GET ${path} answered something other than a list`, cluster, path);
    }
    return data;
  };
  const malformed = (path: string, what: string) =>
    new MalformedAnswerError(`${cluster}: GET ${path} listed ${what}`, cluster, path);

  /** A change (POST/DELETE): PVE answers null. */
  const change = async (label: string, call: (api: Proxmox.Api) => Promise<unknown>): Promise<void> => {
    await client.call(label, call);
    log.info(`${cluster}: ${label}`);
  };

  const readZones = async (): Promise<SdnZone[]> => {
    const path = '/cluster/sdn/zones';
    return (await list(path, (api) => sdnApi(api).zones.$get({ pending: 1 }))).map((e) => {
      const zone = str(e.zone);
      const type = str(e.type);
      if (!zone || !type) throw malformed(path, 'a zone without an id or type');
      const nodes = str(appliedValue(e, 'nodes'));
      return {
        zone,
        type,
        bridge: str(appliedValue(e, 'bridge')),
        nodes: nodes?.split(',').filter(Boolean),
        ipam: str(appliedValue(e, 'ipam')),
        dhcp: str(appliedValue(e, 'dhcp')),
        mtu: num(appliedValue(e, 'mtu')),
        state: stateOf(e),
      };
    });
  };

  const readVnets = async (): Promise<SdnVnet[]> => {
    const path = '/cluster/sdn/vnets';
    return (await list(path, (api) => sdnApi(api).vnets.$get({ pending: 1 }))).map((e) => {
      const vnet = str(e.vnet);
      const zone = str(appliedValue(e, 'zone'));
      if (!vnet || !zone) throw malformed(path, 'a VNet without an id or zone');
      return {
        vnet,
        zone,
        tag: num(appliedValue(e, 'tag')),
        alias: str(appliedValue(e, 'alias')),
        vlanaware: appliedValue(e, 'vlanaware') === undefined ? undefined : flag(appliedValue(e, 'vlanaware')),
        state: stateOf(e),
      };
    });
  };

  const readSubnets = async (vnet: string): Promise<SdnSubnet[]> => {
    const path = `/cluster/sdn/vnets/${vnet}/subnets`;
    return (await list(path, (api) => sdnApi(api).vnets.$(vnet).subnets.$get({ pending: 1 }))).map((e) => {
      const id = str(e.subnet) ?? str(e.id);
      const cidr = str(e.cidr);
      if (!id || !cidr) throw malformed(path, 'a subnet without an id or CIDR');
      const ranges = appliedValue(e, 'dhcp-range');
      return {
        id,
        vnet,
        cidr,
        gateway: str(appliedValue(e, 'gateway')),
        snat: flag(appliedValue(e, 'snat')),
        dhcpRanges: (Array.isArray(ranges) ? ranges : []).flatMap((r) => readRange(r) ?? []),
        state: stateOf(e),
      };
    });
  };

  /** The zone of a VNet in the edited config (a new subnet's id starts with it). */
  const zoneOf = async (vnet: string): Promise<string> => {
    const path = `/cluster/sdn/vnets/${vnet}`;
    const data = await client.call(`GET ${path}`, (api) => sdnApi(api).vnets.$(vnet).$get(), { retryLocks: false });
    const zone = isRecord(data) ? str(data.zone) : undefined;
    if (!zone) throw new MalformedAnswerError(`${cluster}: GET ${path} answered without a zone`, cluster, path);
    return zone;
  };

  return {
    async readSdn(): Promise<SdnConfig> {
      const [zones, vnets] = await Promise.all([readZones(), readVnets()]);
      // A VNet deleted in the config has no subnets to list (PVE refuses to delete one that has).
      const live = vnets.filter((v) => v.state !== 'deleted');
      const subnets = (await Promise.all(live.map((v) => readSubnets(v.vnet)))).flat();
      const pending = [...zones, ...vnets, ...subnets].some((o) => o.state !== undefined);
      return { zones, vnets, subnets, pending };
    },

    async createSdnZone(spec: SdnZoneSpec): Promise<void> {
      const zone = checkSdnId(spec.zone, 'zone');
      if (typeof spec.type !== 'string' || !/^[a-z][a-z0-9_-]+$/i.test(spec.type)) {
        throw new RangeError(`invalid SDN zone type ${JSON.stringify(spec.type)}`);
      }
      if (spec.bridge !== undefined && !/^[-_.\w]+$/.test(spec.bridge)) {
        throw new RangeError(`invalid bridge ${JSON.stringify(spec.bridge)}`);
      }
      for (const n of spec.nodes ?? []) checkNode(n);
      if (spec.mtu !== undefined && (!Number.isInteger(spec.mtu) || spec.mtu < 1))
        throw new RangeError(`invalid MTU ${spec.mtu}`);
      const params: PveParams = {
        zone,
        type: spec.type,
        bridge: spec.bridge,
        nodes: spec.nodes?.join(','),
        ipam: spec.ipam,
        dhcp: spec.dhcp,
        mtu: spec.mtu,
      };
      await change(`POST /cluster/sdn/zones zone=${zone}`, (api) => sdnApi(api).zones.$post(params));
    },

    async createSdnVnet(spec: SdnVnetSpec): Promise<void> {
      const vnet = checkSdnId(spec.vnet, 'VNet');
      checkSdnId(spec.zone, 'zone');
      if (spec.tag !== undefined && (!Number.isInteger(spec.tag) || spec.tag < 1 || spec.tag > 16_777_215)) {
        throw new RangeError(`invalid VNet tag ${spec.tag}`);
      }
      const params: PveParams = {
        vnet,
        zone: spec.zone,
        tag: spec.tag,
        alias: spec.alias,
        vlanaware: pveBool(spec.vlanaware),
      };
      await change(`POST /cluster/sdn/vnets vnet=${vnet}`, (api) => sdnApi(api).vnets.$post(params));
    },

    async createSdnSubnet(spec: SdnSubnetSpec): Promise<string> {
      const vnet = checkSdnId(spec.vnet, 'VNet');
      const cidr = checkCidr(spec.cidr);
      if (spec.gateway !== undefined && !IP_RE.test(spec.gateway)) {
        throw new RangeError(`invalid gateway ${JSON.stringify(spec.gateway)}`);
      }
      const ranges = (spec.dhcpRanges ?? []).map((r) => {
        if (!IP_RE.test(r?.start ?? '') || !IP_RE.test(r?.end ?? '')) {
          throw new RangeError(`invalid DHCP range ${JSON.stringify(r)}`);
        }
        return `start-address=${r.start},end-address=${r.end}`;
      });
      const params: Record<string, unknown> = {
        subnet: cidr,
        type: 'subnet',
        gateway: spec.gateway,
        snat: pveBool(spec.snat),
        // an array: proxmox-api sends one `dhcp-range` per element, as PVE takes it
        'dhcp-range': ranges.length > 0 ? ranges : undefined,
      };
      const path = `/cluster/sdn/vnets/${vnet}/subnets`;
      await change(`POST ${path} subnet=${cidr}`, (api) => sdnApi(api).vnets.$(vnet).subnets.$post(params));
      return `${await zoneOf(vnet)}-${cidr.replace('/', '-')}`;
    },

    async deleteSdnZone(zone: string): Promise<void> {
      checkSdnId(zone, 'zone');
      await change(`DELETE /cluster/sdn/zones/${zone}`, (api) => sdnApi(api).zones.$(zone).$delete());
    },

    async deleteSdnVnet(vnet: string): Promise<void> {
      checkSdnId(vnet, 'VNet');
      await change(`DELETE /cluster/sdn/vnets/${vnet}`, (api) => sdnApi(api).vnets.$(vnet).$delete());
    },

    async deleteSdnSubnet(vnet: string, subnet: string): Promise<void> {
      checkSdnId(vnet, 'VNet');
      if (typeof subnet !== 'string' || !/^[a-z][a-z0-9]*-[0-9a-f.:]+-\d{1,3}$/i.test(subnet)) {
        throw new RangeError(`invalid subnet id ${JSON.stringify(subnet)} (<zone>-<network>-<mask>)`);
      }
      await change(`DELETE /cluster/sdn/vnets/${vnet}/subnets/${subnet}`, (api) =>
        sdnApi(api).vnets.$(vnet).subnets.$(subnet).$delete(),
      );
    },

    async applySdn(): Promise<TaskRef> {
      const ref = readTaskRef(
        cluster,
        '/cluster/sdn',
        await client.call('PUT /cluster/sdn', (api) => sdnApi(api).$put()),
      );
      log.info(`${cluster}: PUT /cluster/sdn → ${ref.upid}`);
      return ref;
    },
  };
}
