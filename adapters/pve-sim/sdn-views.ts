// What GET /cluster/sdn/{zones,vnets,vnets/{vnet}/subnets} answer, as pve-network's API2/Network/SDN/*.pm shape it:
// the edited config (default), the running one (`running=1`) or PVE::Network::SDN::pending_config's merge of both
// (`pending=1`: running values, `pending` for what changes, `state` new/changed/deleted).
import { createHash } from 'node:crypto';
import { PveHttpError } from './errors';
import { DHCP_RANGE_FORMAT } from './net-formats';
import { parseProperty } from './property-string';
import type { SdnConfig, SdnSection, SdnValue, SimSdn } from './sdn-types';

export type SdnKind = keyof SdnConfig;
export type SdnView = 'config' | 'running' | 'pending';
type Entry = Record<string, unknown>;

/** The view a request asks for: `pending` wins over `running` (as PVE's if/elsif reads them). */
export const viewOf = (pending: boolean | undefined, running: boolean | undefined): SdnView =>
  pending ? 'pending' : running ? 'running' : 'config';

/** PVE::Network::SDN::encode_value: lists (nodes, exitnodes, dhcp-range) joined sorted; everything as a string. */
function encode(key: string, value: SdnValue | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return [...value].sort().join(',');
  if (key === 'nodes' || key === 'exitnodes') return String(value).split(',').sort().join(',');
  return String(value);
}

const sorted = (o: object): string[] => Object.keys(o).sort();

/** pending_config: each object's running values with its pending changes and state. */
function pendingOf(running: Record<string, SdnSection>, config: Record<string, SdnSection>): Record<string, Entry> {
  const out: Record<string, Entry> = {};
  for (const id of sorted(running)) {
    const r = running[id]!;
    const c = config[id];
    const e: Entry = {};
    out[id] = e;
    for (const key of sorted(r)) {
      e[key] = r[key];
      if (!c || Object.keys(c).length === 0) e.state = 'deleted';
      else if (c[key] === undefined) {
        e.pending = { ...(e.pending as Entry | undefined), [key]: 'deleted' };
        e.state = 'changed';
      } else if (encode(key, r[key]) !== encode(key, c[key])) e.state = 'changed';
    }
    if (e.state && !e.pending) e.pending = {};
  }
  for (const id of sorted(config)) {
    const r = running[id];
    const c = config[id]!;
    const e: Entry = out[id] ?? {};
    out[id] = e;
    for (const key of sorted(c)) {
      const cv = encode(key, c[key]);
      const rv = r ? encode(key, r[key]) : undefined;
      if (key === 'type' || key === 'vnet') e[key] = cv;
      else if (rv === undefined || cv !== rv) e.pending = { ...(e.pending as Entry | undefined), [key]: c[key] };
      if (!r || Object.keys(r).length === 0) e.state = 'new';
      else if (rv === undefined && cv !== undefined) e.state = 'changed';
    }
    if (e.state && !e.pending) e.pending = {};
  }
  return out;
}

/** The SectionConfig file text (`<type>: <id>` and a tab-indented line per option), whose SHA1 is its digest. */
function sectionText(sections: Record<string, SdnSection>): string {
  return sorted(sections)
    .map((id) => {
      const { type, ...opts } = sections[id]!;
      const lines = sorted(opts).flatMap((k) => {
        const v = opts[k]!;
        return Array.isArray(v) ? v.map((x) => `\t${k} ${x}`) : [`\t${k} ${v}`];
      });
      return `${type}: ${id}\n${lines.join('\n')}\n`;
    })
    .join('\n');
}

/** The digest of one SDN config file (zones.cfg, vnets.cfg, subnets.cfg). */
export const sdnDigest = (config: SdnConfig, kind: SdnKind): string =>
  createHash('sha1').update(sectionText(config[kind])).digest('hex');

/** The objects of one kind in a view, with the digest the answer carries (null outside the edited config). */
function objects(sdn: SimSdn, kind: SdnKind, view: SdnView): { ids: Record<string, Entry>; digest: string | null } {
  if (view === 'config') return { ids: sdn.config[kind], digest: sdnDigest(sdn.config, kind) };
  const running = sdn.running?.[kind] ?? {};
  if (view === 'running') return { ids: running, digest: null };
  return { ids: pendingOf(running, sdn.config[kind]), digest: null };
}

/** sdn_subnets_config's additions (id, cidr, zone, network, mask) and the parsed DHCP ranges. */
function subnetEntry(id: string, section: Entry, digest: string | null): Entry {
  const [zone, network, mask] = id.split('-');
  const ranges = Array.isArray(section['dhcp-range']) ? (section['dhcp-range'] as string[]) : [];
  const parsed = ranges.flatMap((r) => {
    try {
      return [parseProperty(DHCP_RANGE_FORMAT, r, 'dhcp-range')];
    } catch {
      return []; // get_dhcp_ranges: "Unable to parse dhcp-range string" is a warning; the range is left out
    }
  });
  return {
    ...section,
    id,
    cidr: `${network}/${mask}`,
    zone,
    network,
    mask,
    subnet: id,
    digest,
    'dhcp-range': parsed,
  };
}

/** The error PVE dies with for an id that is not in the view. */
const missing: Record<SdnKind, (id: string) => string> = {
  zones: (id) => `sdn '${id}' does not exist`,
  vnets: (id) => `sdn vnet '${id}' does not exist`,
  subnets: (id) => `sdn subnet '${id}' does not exist`,
};

function entry(kind: SdnKind, id: string, section: Entry, digest: string | null): Entry {
  if (kind === 'subnets') return subnetEntry(id, section, digest);
  return { ...section, [kind === 'zones' ? 'zone' : 'vnet']: id, digest };
}

/** GET /cluster/sdn/zones or /cluster/sdn/vnets: every object of the view, sorted by id. */
export function sdnList(sdn: SimSdn, kind: 'zones' | 'vnets', view: SdnView, type?: string): Entry[] {
  const { ids, digest } = objects(sdn, kind, view);
  return sorted(ids)
    .map((id) => entry(kind, id, ids[id]!, digest))
    .filter((e) => type === undefined || e.type === type);
}

/** GET /cluster/sdn/vnets/{vnet}/subnets: the subnets of one VNet. */
export function subnetList(sdn: SimSdn, vnet: string, view: SdnView): Entry[] {
  const { ids, digest } = objects(sdn, 'subnets', view);
  return sorted(ids)
    .map((id) => entry('subnets', id, ids[id]!, digest))
    .filter((e) => e.vnet === vnet);
}

/** GET of one zone, VNet or subnet: PVE's "does not exist" (HTTP 500) when the view lacks it. */
export function sdnRead(sdn: SimSdn, kind: SdnKind, id: string, view: SdnView): Entry {
  const { ids, digest } = objects(sdn, kind, view);
  const section = ids[id];
  if (!section) throw new PveHttpError(500, missing[kind](id));
  return entry(kind, id, section, digest);
}

/** has_pending_changes: whether any zone, VNet or subnet differs from the running config. */
export function hasPendingChanges(sdn: SimSdn): boolean {
  return (['zones', 'vnets', 'subnets'] as const).some((kind) =>
    Object.values(pendingOf(sdn.running?.[kind] ?? {}, sdn.config[kind])).some((e) => e.pending !== undefined),
  );
}
