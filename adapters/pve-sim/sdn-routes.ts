// The SDN routes under /cluster/sdn (pve-network API2/Network/SDN.pm, SDN/Zones.pm, SDN/Vnets.pm, SDN/Subnets.pm;
// parameters as pve-docs apidata.js lists them). Spread into the route table by routes.ts.
import { PveParamError } from './errors';
import { netFormats } from './net-formats';
import { formats, P, type ParamSchema, type Params, str } from './params';
import type { Call, Route } from './routes';
import {
  applySdn,
  checkVnetAccess,
  createSubnet,
  createVnet,
  createZone,
  deleteSubnet,
  deleteVnet,
  deleteZone,
} from './sdn';
import type { SdnValue } from './sdn-types';
import { sdnList, sdnRead, subnetList, viewOf } from './sdn-views';

const route = (method: Route['method'], path: string, def: Omit<Route, 'method' | 'path'>): Route => ({
  method,
  path: path.split('/').filter(Boolean),
  ...def,
});

/** An ACL path from the request's parameters (or the placeholder itself when the parameter is absent). */
const sdnPerm = (path: string) => (raw: Record<string, string>) => ({
  acl: path.replace(/\{(\w+)\}/g, (whole, name: string) => raw[name] ?? whole),
  priv: 'SDN.Allocate',
});

const VIEW = { running: P.optBool, pending: P.optBool } as const satisfies ParamSchema;
const LOCK_TOKEN = { 'lock-token': P.optStr } as const satisfies ParamSchema;
const ZONE_TYPES = ['evpn', 'faucet', 'qinq', 'simple', 'vlan', 'vxlan'] as const;
const ZONE_ID = { type: 'string', format: netFormats.sdnZoneId } as const;
const VNET_ID = { type: 'string', format: netFormats.sdnVnetId } as const;
const SUBNET_ID = { type: 'string', format: netFormats.sdnSubnetId } as const;

/** The zone options of every plugin (createSchema of Zones::Plugin). */
const ZONE_SCHEMA = {
  zone: ZONE_ID,
  type: { type: 'string', format: formats.configId, enum: ZONE_TYPES },
  ...LOCK_TOKEN,
  'advertise-subnets': P.optBool,
  bridge: P.optStr,
  'bridge-disable-mac-learning': P.optBool,
  controller: P.optStr,
  dhcp: { type: 'string', optional: true, enum: ['dnsmasq'] },
  'disable-arp-nd-suppression': P.optBool,
  dns: P.optStr,
  dnszone: { type: 'string', optional: true, format: formats.dnsName },
  'dp-id': P.optInt,
  exitnodes: { type: 'string', optional: true, format: formats.nodeList },
  'exitnodes-local-routing': P.optBool,
  'exitnodes-primary': P.optNode,
  fabric: { type: 'string', optional: true, format: netFormats.sdnFabricId },
  ipam: P.optStr,
  mac: { type: 'string', optional: true, format: netFormats.macAddr },
  mtu: P.optInt,
  nodes: { type: 'string', optional: true, format: formats.nodeList },
  peers: { type: 'string', optional: true, format: netFormats.ipList },
  reversedns: P.optStr,
  'rt-import': { type: 'string', optional: true, format: netFormats.sdnBgpRtList },
  tag: P.optInt0,
  'vlan-protocol': { type: 'string', optional: true, enum: ['802.1q', '802.1ad'] },
  'vrf-vxlan': { type: 'integer', optional: true, min: 1, max: 16_777_215 },
  'vxlan-port': { type: 'integer', optional: true, min: 1, max: 65_536 },
} as const satisfies ParamSchema;

const VNET_SCHEMA = {
  vnet: VNET_ID,
  zone: { type: 'string' },
  type: { type: 'string', optional: true, enum: ['vnet'] },
  ...LOCK_TOKEN,
  // apidata writes Perl's qr//i as "(?^i:...)"; the same class as a JavaScript pattern (see api-schema.test.ts).
  alias: { type: 'string', optional: true, maxLength: 256, pattern: '[\\(\\)-_.\\w\\d\\s]{0,256}' },
  'isolate-ports': P.optBool,
  tag: { type: 'integer', optional: true, min: 1, max: 16_777_215 },
  vlanaware: P.optBool,
} as const satisfies ParamSchema;

const SUBNET_SCHEMA = {
  vnet: { type: 'string' },
  subnet: SUBNET_ID,
  type: { type: 'string', enum: ['subnet'] },
  ...LOCK_TOKEN,
  'dhcp-dns-server': { type: 'string', optional: true, format: netFormats.ip },
  'dhcp-range': { type: 'array', optional: true, items: netFormats.sdnDhcpRange },
  dnszoneprefix: { type: 'string', optional: true, format: formats.dnsName },
  gateway: { type: 'string', optional: true, format: netFormats.ip },
  snat: P.optBool,
} as const satisfies ParamSchema;

/** The section options a request sets: booleans and integers as numbers, arrays as lists. */
function options(params: Params, skip: readonly string[]): Record<string, SdnValue> {
  const out: Record<string, SdnValue> = {};
  for (const [k, v] of Object.entries(params)) {
    if (skip.includes(k)) continue;
    if (typeof v === 'boolean') out[k] = v ? 1 : 0;
    else if (k === 'dhcp-range') out[k] = String(v).split('\0');
    else if (k === 'nodes' || k === 'exitnodes')
      out[k] = [
        ...new Set(
          String(v)
            .split(/[,;\s]+/)
            .filter(Boolean),
        ),
      ]
        .sort()
        .join(',');
    else out[k] = v;
  }
  return out;
}

const viewParam = (c: Call) => viewOf(c.params.pending === true, c.params.running === true);
const done = { data: null };

export const SDN_ROUTES: Route[] = [
  route('GET', 'cluster/sdn', {
    schema: {},
    handle: () => ({
      data: ['vnets', 'zones', 'controllers', 'ipams', 'dns', 'fabrics'].map((id) => ({ id })),
    }),
  }),
  route('PUT', 'cluster/sdn', {
    schema: { ...LOCK_TOKEN, 'release-lock': P.optBool },
    perm: sdnPerm('/sdn'),
    handle: (c) => ({ data: applySdn(c.ctx, c.who) }),
  }),
  route('GET', 'cluster/sdn/zones', {
    schema: { ...VIEW, type: { type: 'string', optional: true, enum: ZONE_TYPES } },
    handle: (c) => ({ data: sdnList(c.ctx.state.sdn, 'zones', viewParam(c), str(c.params, 'type')) }),
  }),
  route('POST', 'cluster/sdn/zones', {
    schema: ZONE_SCHEMA,
    perm: sdnPerm('/sdn/zones'),
    handle: (c) => {
      const p = c.params;
      createZone(c.ctx, c.who, p.zone as string, p.type as string, options(p, ['zone', 'type', 'lock-token']));
      return done;
    },
  }),
  route('GET', 'cluster/sdn/zones/{zone}', {
    schema: { ...VIEW, zone: ZONE_ID },
    perm: sdnPerm('/sdn/zones/{zone}'),
    handle: (c) => ({ data: sdnRead(c.ctx.state.sdn, 'zones', c.params.zone as string, viewParam(c)) }),
  }),
  route('DELETE', 'cluster/sdn/zones/{zone}', {
    schema: { zone: ZONE_ID, ...LOCK_TOKEN },
    perm: sdnPerm('/sdn/zones/{zone}'),
    handle: (c) => {
      deleteZone(c.ctx, c.who, c.params.zone as string);
      return done;
    },
  }),
  route('GET', 'cluster/sdn/vnets', {
    schema: VIEW,
    handle: (c) => ({ data: sdnList(c.ctx.state.sdn, 'vnets', viewParam(c)) }),
  }),
  route('POST', 'cluster/sdn/vnets', {
    schema: VNET_SCHEMA,
    perm: sdnPerm('/sdn/zones/{zone}'),
    handle: (c) => {
      createVnet(c.ctx, c.who, c.params.vnet as string, options(c.params, ['vnet', 'type', 'lock-token']));
      return done;
    },
  }),
  route('GET', 'cluster/sdn/vnets/{vnet}', {
    schema: { ...VIEW, vnet: VNET_ID },
    handle: (c) => {
      checkVnetAccess(c.ctx.state, c.who, c.params.vnet as string, 'SDN.Audit');
      return { data: sdnRead(c.ctx.state.sdn, 'vnets', c.params.vnet as string, viewParam(c)) };
    },
  }),
  route('DELETE', 'cluster/sdn/vnets/{vnet}', {
    schema: { vnet: VNET_ID, ...LOCK_TOKEN },
    handle: (c) => {
      deleteVnet(c.ctx, c.who, c.params.vnet as string);
      return done;
    },
  }),
  route('GET', 'cluster/sdn/vnets/{vnet}/subnets', {
    schema: { ...VIEW, vnet: VNET_ID },
    handle: (c) => {
      const vnet = c.params.vnet as string;
      checkVnetAccess(c.ctx.state, c.who, vnet, 'SDN.Audit');
      return { data: subnetList(c.ctx.state.sdn, vnet, viewParam(c)) };
    },
  }),
  route('POST', 'cluster/sdn/vnets/{vnet}/subnets', {
    schema: SUBNET_SCHEMA,
    handle: (c) => {
      const p = c.params;
      createSubnet(
        c.ctx,
        c.who,
        p.vnet as string,
        p.subnet as string,
        options(p, ['vnet', 'subnet', 'type', 'lock-token']),
      );
      return done;
    },
  }),
  route('GET', 'cluster/sdn/vnets/{vnet}/subnets/{subnet}', {
    schema: { ...VIEW, vnet: VNET_ID, subnet: SUBNET_ID },
    handle: (c) => {
      const vnet = c.params.vnet as string;
      checkVnetAccess(c.ctx.state, c.who, vnet, 'SDN.Audit');
      const entry = sdnRead(c.ctx.state.sdn, 'subnets', c.params.subnet as string, viewParam(c));
      if (entry.vnet !== vnet) throw new PveParamError({ vnet: 'wrong vnet' });
      return { data: entry };
    },
  }),
  route('DELETE', 'cluster/sdn/vnets/{vnet}/subnets/{subnet}', {
    schema: { vnet: VNET_ID, subnet: SUBNET_ID, ...LOCK_TOKEN },
    handle: (c) => {
      deleteSubnet(c.ctx, c.who, c.params.vnet as string, c.params.subnet as string);
      return done;
    },
  }),
];
