// SDN zones, VNets and subnets as pve-network's API changes them (API2/Network/SDN/{Zones,Vnets,Subnets}.pm with
// the simple and vlan zone plugins, VnetPlugin and SubnetPlugin): every change edits the config only and stays
// pending until `PUT /cluster/sdn` commits it (SDN.pm reload), whose `reloadnetworkall` task reloads each node's
// network. Errors inside lock_sdn_config come back as "<what> failed: <error>" (HTTP 500), as PVE words them.
import type { Principal } from './auth';
import { PveHttpError, PveParamError, TaskError } from './errors';
import { DHCP_RANGE_FORMAT, isIp, isIpv4, subnetIdCidr } from './net-formats';
import { type OpsContext, requireQuorum } from './operations';
import { parseProperty } from './property-string';
import type { SdnConfig, SdnSection, SdnValue } from './sdn-types';
import type { SimState } from './types';

/** The zone plugin types the simulator models, with their options (Zones/*Plugin.pm `options`). */
export const ZONE_OPTIONS: Record<string, Record<string, { optional: boolean }>> = {
  simple: {
    nodes: { optional: true },
    mtu: { optional: true },
    dns: { optional: true },
    reversedns: { optional: true },
    dnszone: { optional: true },
    ipam: { optional: true },
    dhcp: { optional: true },
  },
  vlan: {
    nodes: { optional: true },
    bridge: { optional: false },
    'bridge-disable-mac-learning': { optional: true },
    mtu: { optional: true },
    dns: { optional: true },
    reversedns: { optional: true },
    dnszone: { optional: true },
    ipam: { optional: true },
  },
};

/** The IPAMs of a fresh PVE install (ipams.cfg `pve: pve`). No DNS plugins are configured. */
const IPAMS = new Set(['pve']);
/** Bridges every node has besides SDN VNets. */
export const NODE_BRIDGES: readonly string[] = ['vmbr0'];
/** Installed path of the zone plugin whose die has no newline (Perl appends where it died). */
const ZONE_PLUGIN_PM = '/usr/share/perl5/PVE/Network/SDN/Zones/Plugin.pm';

type Options = Record<string, SdnValue>;

/** A plain (non-parameter) error inside the SDN lock. */
class SdnError extends Error {}

/** PVE::Exception's stringification inside "$errmsg: $err": "400 Parameter verification failed.\nkey: text\n". */
function stringify(err: unknown): string {
  if (err instanceof PveParamError && err.errors) {
    const lines = Object.entries(err.errors).map(([k, m]) => `${k}: ${m}`);
    return [`400 ${err.message}`, ...lines].join('\n');
  }
  return err instanceof Error ? err.message : String(err);
}

/** lock_sdn_config: the cfs domain lock (no quorum: "cfs-lock 'domain-sdn' error: no quorum!"), errors prefixed. */
function locked<T>(state: SimState, errmsg: string, fn: () => T): T {
  if (!state.quorate) throw new PveHttpError(500, `${errmsg}: cfs-lock 'domain-sdn' error: no quorum!`);
  try {
    return fn();
  } catch (err) {
    throw new PveHttpError(500, `${errmsg}: ${stringify(err)}`, undefined, false, { cause: err });
  }
}

/** SectionConfig check_config: every option must belong to the type; on create the required ones must be there. */
function checkConfig(optionsOf: Record<string, { optional: boolean }>, params: Options, create: boolean): Options {
  for (const k of Object.keys(params)) if (!optionsOf[k]) throw new SdnError(`unexpected property '${k}'`);
  if (create) {
    for (const [k, o] of Object.entries(optionsOf)) {
      if (!o.optional && params[k] === undefined) throw new SdnError(`missing value for required option '${k}'`);
    }
  }
  return params;
}

const record = (ctx: OpsContext, who: Principal, op: string, id: string, detail?: Record<string, unknown>) =>
  ctx.tasks.record({ op, node: ctx.state.localNode, vmid: 0, id, user: who.authid, detail });

/** POST /cluster/sdn/zones. `params` are the options after zone, type and lock-token were taken out. */
export function createZone(ctx: OpsContext, who: Principal, zone: string, type: string, params: Options): void {
  const { state } = ctx;
  const optionsOf = ZONE_OPTIONS[type];
  if (!optionsOf) throw new PveHttpError(501, `the simulator does not model SDN zones of type '${type}'`);
  const opts = checkConfig(optionsOf, params, true);
  requireQuorum(state);
  locked(state, 'create sdn zone object failed', () => {
    const cfg = state.sdn.config;
    if (cfg.zones[zone]) throw new SdnError(`sdn zone object ID '${zone}' already defined`);
    const errors: Record<string, string> = {};
    if (opts.dns !== undefined) errors.dns = `${opts.dns} don't exist`;
    else if (opts.reversedns !== undefined) errors.reversedns = `${opts.reversedns} don't exist`;
    else if (opts.dnszone !== undefined) errors.dnszone = 'missing dns server';
    else if (opts.ipam !== undefined && !IPAMS.has(String(opts.ipam))) errors.ipam = `${opts.ipam} not existing`;
    if (Object.keys(errors).length > 0) throw new PveParamError(errors);
    cfg.zones[zone] = { type, ...opts };
  });
  record(ctx, who, 'sdn-zone-create', zone, { type });
}

/** DELETE /cluster/sdn/zones/{zone}: refused while a VNet names the zone (Zones/Plugin.pm on_delete_hook). */
export function deleteZone(ctx: OpsContext, who: Principal, zone: string): void {
  const { state } = ctx;
  locked(state, 'delete sdn zone object failed', () => {
    const cfg = state.sdn.config;
    if (!cfg.zones[zone]) throw new SdnError(`sdn '${zone}' does not exist`);
    for (const [id, vnet] of Object.entries(cfg.vnets)) {
      if (vnet.type === 'vnet' && vnet.zone === zone) {
        throw new SdnError(`zone ${zone} is used by vnet ${id} at ${ZONE_PLUGIN_PM} line 159.`);
      }
    }
    delete cfg.zones[zone];
  });
  record(ctx, who, 'sdn-zone-delete', zone);
}

const subnetsOf = (cfg: SdnConfig, vnet: string): string[] =>
  Object.keys(cfg.subnets).filter((id) => cfg.subnets[id]!.vnet === vnet);

/** The zone plugins' vnet_update_hook: simple zones take no tag; vlan zones need a unique one up to 4096. */
function vnetUpdateHook(cfg: SdnConfig, vnet: string): void {
  const v = cfg.vnets[vnet]!;
  const zoneType = cfg.zones[String(v.zone)]?.type;
  // Zones::Plugin->lookup($plugin_config->{type}) of a zone that is not there: SectionConfig's lookup dies.
  if (zoneType === undefined) throw new SdnError("unknown section type ''");
  const tag = v.tag;
  if (zoneType === 'simple' && tag !== undefined)
    throw new PveParamError({ tag: 'vlan tag is not allowed on simple zone' });
  if (zoneType === 'vlan') {
    if (tag === undefined) throw new PveParamError({ tag: 'missing vlan tag' });
    if (Number(tag) > 4096) throw new PveParamError({ tag: 'vlan tag max value is 4096' });
    for (const [id, other] of Object.entries(cfg.vnets)) {
      if (id !== vnet && other.zone === v.zone && other.tag !== undefined && String(other.tag) === String(tag)) {
        throw new PveParamError({ tag: `tag ${tag} already exist in vnet ${id}` });
      }
    }
  }
  // VnetPlugin on_update_hook
  if (v.vlanaware && subnetsOf(cfg, vnet).length > 0) {
    throw new PveParamError({ vlanaware: 'vlanaware vnet is not compatible with subnets' });
  }
}

/** POST /cluster/sdn/vnets. */
export function createVnet(ctx: OpsContext, who: Principal, vnet: string, params: Options): void {
  const { state } = ctx;
  requireQuorum(state);
  locked(state, 'create sdn vnet object failed', () => {
    const cfg = state.sdn.config;
    if (cfg.vnets[vnet]) throw new SdnError(`sdn vnet object ID '${vnet}' already defined`);
    cfg.vnets[vnet] = { type: 'vnet', ...params };
    try {
      vnetUpdateHook(cfg, vnet);
    } catch (err) {
      delete cfg.vnets[vnet];
      throw err;
    }
  });
  record(ctx, who, 'sdn-vnet-create', vnet, { zone: params.zone });
}

/**
 * Vnets.pm's check_vnet_access: the VNet must exist ("sdn vnet '<id>' does not exist") and an audit-only principal
 * lacks SDN.Allocate on /sdn/zones/<zone>/<vnet>.
 */
export function checkVnetAccess(state: SimState, who: Principal, vnet: string, priv: string): SdnSection {
  const v = state.sdn.config.vnets[vnet];
  if (!v) throw new PveHttpError(500, `sdn vnet '${vnet}' does not exist`);
  // An audit-only principal has SDN.Audit, not SDN.Allocate.
  if (priv !== 'SDN.Audit' && who.role !== 'admin') {
    throw new PveHttpError(403, `Permission check failed (/sdn/zones/${v.zone}/${vnet}, ${priv})`);
  }
  return v;
}

/** DELETE /cluster/sdn/vnets/{vnet}: refused while it has subnets (VnetPlugin on_delete_hook). */
export function deleteVnet(ctx: OpsContext, who: Principal, vnet: string): void {
  const { state } = ctx;
  checkVnetAccess(state, who, vnet, 'SDN.Allocate');
  locked(state, 'delete sdn vnet object failed', () => {
    const cfg = state.sdn.config;
    if (!cfg.vnets[vnet]) throw new SdnError(`sdn vnet '${vnet}' does not exist`);
    if (subnetsOf(cfg, vnet).length > 0) throw new PveParamError({ vnet: "Can't delete vnet if subnets exists" });
    delete cfg.vnets[vnet];
  });
  record(ctx, who, 'sdn-vnet-delete', vnet);
}

/** An IPv4 or IPv6 address as a bigint, with its width. */
function ipValue(ip: string): { v: bigint; bits: number } {
  if (isIpv4(ip)) return { v: ip.split('.').reduce((a, o) => (a << 8n) + BigInt(o), 0n), bits: 32 };
  const [head = '', tail = ''] = ip.split('::');
  const h = head ? head.split(':') : [];
  const t = ip.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = ip.includes('::') ? [...h, ...Array(8 - h.length - t.length).fill('0'), ...t] : h;
  return { v: groups.reduce((a, g) => (a << 16n) + BigInt(Number.parseInt(g, 16)), 0n), bits: 128 };
}

/** Net::Subnet's subnet_matcher: whether `ip` lies in `cidr`. */
function inSubnet(cidr: string, ip: string): boolean {
  const [net = '', mask = '0'] = cidr.split('/');
  if (!isIp(ip) || isIpv4(ip) !== isIpv4(net)) return false;
  const a = ipValue(net);
  const b = ipValue(ip);
  const shift = BigInt(a.bits - Number(mask));
  return a.v >> shift === b.v >> shift;
}

/** SubnetPlugin validate_dhcp_ranges. */
function validateDhcpRanges(cidr: string, ranges: string[]): void {
  const seen: Array<[bigint, bigint]> = [];
  for (const r of ranges) {
    const range = parseProperty(DHCP_RANGE_FORMAT, r, 'dhcp-range');
    const start = String(range['start-address']);
    const end = String(range['end-address']);
    if (!isIp(start)) throw new PveParamError({ 'dhcp-range': `start-address is not a valid IP ${start}` });
    if (!isIp(end)) throw new PveParamError({ 'dhcp-range': `end-address is not a valid IP ${end}` });
    const s = ipValue(start).v;
    const e = ipValue(end).v;
    if (s > e) {
      throw new PveParamError({ 'dhcp-range': `start-address ${start} must be smaller than end-address ${end}` });
    }
    if (!inSubnet(cidr, start))
      throw new PveParamError({ 'dhcp-range': `start-address ${start} is not in subnet ${cidr}` });
    if (!inSubnet(cidr, end)) throw new PveParamError({ 'dhcp-range': `end-address ${end} is not in subnet ${cidr}` });
    if (seen.some(([a, b]) => s <= b && a <= e))
      throw new PveParamError({ 'dhcp-range': 'dhcp ranges must not overlap' });
    seen.push([s, e]);
  }
}

/** POST /cluster/sdn/vnets/{vnet}/subnets: the id is `<zone>-<network>-<mask>` of the VNet's zone. */
export function createSubnet(ctx: OpsContext, who: Principal, vnet: string, cidr: string, params: Options): string {
  const { state } = ctx;
  checkVnetAccess(state, who, vnet, 'SDN.Allocate');
  requireQuorum(state);
  let id = '';
  locked(state, 'create sdn subnet object failed', () => {
    const cfg = state.sdn.config;
    const zone = String(cfg.vnets[vnet]?.zone ?? '');
    id = `${zone}-${cidr.replace('/', '-')}`;
    if (cfg.subnets[id]) throw new SdnError(`sdn subnet object ID '${id}' already defined`);
    // SubnetPlugin on_update_hook
    if (cfg.vnets[vnet]?.vlanaware) throw new PveParamError({ vnet: "you can't add a subnet on a vlanaware vnet" });
    const gateway = params.gateway === undefined ? undefined : String(params.gateway);
    const pointToPoint = gateway !== undefined && isIpv4(gateway) && cidr.endsWith('/32');
    if (gateway !== undefined && !inSubnet(cidr, gateway) && !pointToPoint) {
      throw new PveParamError({ gateway: `${gateway} is not in subnet ${cidr}` });
    }
    const ranges = params['dhcp-range'];
    if (Array.isArray(ranges)) validateDhcpRanges(cidr, ranges);
    cfg.subnets[id] = { type: 'subnet', vnet, ...params };
  });
  record(ctx, who, 'sdn-subnet-create', id, { vnet, cidr });
  return id;
}

/**
 * DELETE /cluster/sdn/vnets/{vnet}/subnets/{subnet}. A subnet that is not there is no error, unless the VNet's zone
 * uses the PVE IPAM, whose del_subnet finds no zone '' in its database.
 */
export function deleteSubnet(ctx: OpsContext, who: Principal, vnet: string, subnet: string): void {
  const { state } = ctx;
  checkVnetAccess(state, who, vnet, 'SDN.Allocate');
  locked(state, 'delete sdn subnet object failed', () => {
    const cfg = state.sdn.config;
    const zone = cfg.zones[String(cfg.vnets[vnet]?.zone)];
    if (!cfg.subnets[subnet] && zone?.ipam !== undefined) throw new SdnError("zone '' doesn't exist in IPAM DB");
    delete cfg.subnets[subnet];
  });
  record(ctx, who, 'sdn-subnet-delete', subnet, { vnet, cidr: subnetIdCidr(subnet) });
}

/** The VNets a node gets from the running config: those of zones without `nodes` or naming it. */
export function vnetsFor(state: SimState, node: string): string[] {
  const running = state.sdn.running;
  if (!running) return [];
  return Object.keys(running.vnets)
    .filter((id) => {
      const nodes = running.zones[String(running.vnets[id]!.zone)]?.nodes;
      return nodes === undefined || String(nodes).split(',').includes(node);
    })
    .sort();
}

/** Whether `bridge` exists on `node`: its own bridges, and the VNets its last network reload created. */
export const bridgeExists = (state: SimState, node: string, bridge: string): boolean =>
  NODE_BRIDGES.includes(bridge) || (state.sdn.nodeVnets[node] ?? []).includes(bridge);

/**
 * PUT /cluster/sdn: commits the config as the running one (at once, under the SDN lock), then a `reloadnetworkall`
 * task on the local node reloads every node's network; a node that cannot be reached keeps its old network and the
 * task logs pvesh's failure (a plain warn: the task still ends OK).
 */
export function applySdn(ctx: OpsContext, who: Principal): string {
  const { state, tasks } = ctx;
  locked(state, 'could not commit SDN config', () => {
    const copy = JSON.parse(JSON.stringify(state.sdn.config)) as SdnConfig;
    state.sdn.running = { ...copy, version: (state.sdn.running?.version ?? 0) + 1 };
  });
  const version = state.sdn.running?.version;
  return tasks.start({
    node: state.localNode,
    type: 'reloadnetworkall',
    vmid: 0,
    id: '',
    user: who.authid,
    op: 'sdn-apply',
    detail: { version },
    run: async (t) => {
      if (!state.quorate) throw new TaskError('cluster not ready - no quorum?');
      await t.work();
      for (const node of [...state.nodes.keys()].sort()) {
        t.log(`${node}: reloading network config`);
        if (!state.nodes.get(node)?.online) {
          t.log(`command 'pvesh set /nodes/${node}/network --regenerate-frr 0' failed: exit code 255`);
          continue;
        }
        state.sdn.nodeVnets[node] = vnetsFor(state, node);
      }
    },
  }).upid;
}
