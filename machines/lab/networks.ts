// The lab file's own network rules: the zone and its VNets (or plain bridges with VLAN tags), subnets that do not
// overlap, gateways and DHCP ranges inside their subnets, and each NIC on a known network with an address that fits
// it (members of a VM with a count get consecutive addresses).
import type { LabMember } from './graph';
import {
  addToIp,
  type Cidr,
  cidrContains,
  cidrsOverlap,
  formatCidr,
  formatIp,
  type IpAddress,
  isReservedHost,
  parseCidr,
  parseIp,
  parseIpWithPrefix,
} from './ip';
import { formatPath, type LabIssue, quoteList } from './issues';
import type { MemberNic } from './model';
import type { LabNetworks, LabNic, LabSpec, LabSubnet, LabVnet } from './spec';

/** PVE SDN zone and VNet ids: letters and digits, starting with a letter, at most 8. */
export const SDN_ID = /^[a-z][a-z0-9]{0,7}$/i;

interface SubnetRef {
  vnet: string;
  path: string;
  cidr: Cidr;
  subnet: LabSubnet;
  dhcp?: { start: IpAddress; end: IpAddress } | undefined;
}

/** The lab's subnets with their parsed blocks (the ones that parse and are network addresses). */
export function labSubnets(networks: LabNetworks): SubnetRef[] {
  const out: SubnetRef[] = [];
  networks.vnets.forEach((vnet, v) => {
    vnet.subnets.forEach((subnet, s) => {
      const cidr = parseCidr(subnet.cidr);
      if (!cidr || cidr.hostBitsSet) return;
      const start = subnet.dhcp && parseIp(subnet.dhcp.start);
      const end = subnet.dhcp && parseIp(subnet.dhcp.end);
      const dhcp = start && end ? { start, end } : undefined;
      out.push({ vnet: vnet.name, path: formatPath(['networks', 'vnets', v, 'subnets', s]), cidr, subnet, dhcp });
    });
  });
  return out;
}

export function checkNetworks(networks: LabNetworks): LabIssue[] {
  const issues: LabIssue[] = [];
  const { zone } = networks;
  if (zone?.type === 'vlan' && !zone.bridge) {
    issues.push({ path: 'networks.zone.bridge', message: 'a vlan zone needs the bridge its VLANs ride on' });
  }
  if (zone?.type === 'simple' && zone.bridge) {
    issues.push({ path: 'networks.zone.bridge', message: 'a simple zone makes its own bridges: remove bridge' });
  }
  const seen = new Map<string, number>();
  const tags = new Map<string, number>();
  networks.vnets.forEach((vnet, v) => {
    const at = (key: string) => formatPath(['networks', 'vnets', v, key]);
    const first = seen.get(vnet.name);
    if (first !== undefined) {
      issues.push({ path: at('name'), message: `duplicate vnet '${vnet.name}' (also networks.vnets[${first}])` });
    } else {
      seen.set(vnet.name, v);
    }
    issues.push(...vnetShape(vnet, networks, at));
    if (vnet.tag !== undefined && (zone?.type === 'vlan' || (!zone && vnet.bridge))) {
      const key = `${zone ? `zone ${zone.name}` : `bridge ${vnet.bridge}`}/${vnet.tag}`;
      const other = tags.get(key);
      if (other !== undefined) {
        issues.push({ path: at('tag'), message: `VLAN ${vnet.tag} is already networks.vnets[${other}]'s` });
      } else {
        tags.set(key, v);
      }
    }
    vnet.subnets.forEach((subnet, s) => {
      issues.push(...subnetRules(subnet, formatPath(['networks', 'vnets', v, 'subnets', s]), zone?.type));
    });
  });
  const subnets = labSubnets(networks);
  for (let i = 0; i < subnets.length; i++) {
    for (let j = 0; j < i; j++) {
      const [a, b] = [subnets[i]!, subnets[j]!];
      if (cidrsOverlap(a.cidr, b.cidr)) {
        issues.push({
          path: `${a.path}.cidr`,
          message: `${formatCidr(a.cidr)} overlaps ${formatCidr(b.cidr)} (${b.path}, vnet '${b.vnet}')`,
        });
        break;
      }
    }
  }
  return issues;
}

function vnetShape(vnet: LabVnet, networks: LabNetworks, at: (key: string) => string): LabIssue[] {
  const { zone } = networks;
  const issues: LabIssue[] = [];
  if (zone) {
    if (!SDN_ID.test(vnet.name)) {
      issues.push({
        path: at('name'),
        message: `'${vnet.name}' is not a PVE VNet id: letters and digits, starting with a letter, at most 8`,
      });
    }
    if (vnet.bridge) {
      issues.push({ path: at('bridge'), message: `a VNet of zone '${zone.name}' has no bridge of its own` });
    }
    if (zone.type === 'vlan' && vnet.tag === undefined) {
      issues.push({ path: at('tag'), message: `a VNet of vlan zone '${zone.name}' needs its VLAN tag` });
    }
    if (zone.type === 'simple' && vnet.tag !== undefined) {
      issues.push({ path: at('tag'), message: `a VNet of simple zone '${zone.name}' has no VLAN tag` });
    }
  } else {
    if (!vnet.bridge) {
      issues.push({
        path: at('bridge'),
        message: 'without an SDN zone (networks.zone) a network is a plain bridge with a VLAN tag: name its bridge',
      });
    }
    if (vnet.tag === undefined) {
      issues.push({ path: at('tag'), message: 'a plain bridge network needs a VLAN tag to keep the lab isolated' });
    }
  }
  return issues;
}

function subnetRules(subnet: LabSubnet, path: string, zoneType: string | undefined): LabIssue[] {
  const cidr = parseCidr(subnet.cidr);
  if (!cidr) return []; // the schema refused it already
  if (cidr.hostBitsSet) {
    return [{ path: `${path}.cidr`, message: `${subnet.cidr} is not a network address (${formatCidr(cidr)})` }];
  }
  const issues: LabIssue[] = [];
  const gateway = subnet.gateway === undefined ? undefined : parseIp(subnet.gateway);
  if (gateway && (!cidrContains(cidr, gateway) || isReservedHost(cidr, gateway))) {
    issues.push({ path: `${path}.gateway`, message: `${subnet.gateway} is not a host address of ${formatCidr(cidr)}` });
  }
  if (subnet.dhcp) {
    const at = `${path}.dhcp`;
    if (zoneType !== 'simple') {
      issues.push({ path: at, message: 'PVE serves DHCP in simple zones only' });
      return issues;
    }
    if (!subnet.gateway) issues.push({ path: at, message: 'DHCP needs the subnet to have a gateway' });
    const start = parseIp(subnet.dhcp.start);
    const end = parseIp(subnet.dhcp.end);
    for (const [key, ip] of [
      ['start', start],
      ['end', end],
    ] as const) {
      if (ip && (!cidrContains(cidr, ip) || isReservedHost(cidr, ip))) {
        issues.push({ path: `${at}.${key}`, message: `${formatIp(ip)} is not a host address of ${formatCidr(cidr)}` });
      }
    }
    if (start && end && start.value > end.value) {
      issues.push({ path: `${at}.end`, message: `the range ends (${formatIp(end)}) before it starts` });
    } else if (start && end && gateway && gateway.value >= start.value && gateway.value <= end.value) {
      issues.push({ path: `${at}`, message: `the range holds the gateway ${subnet.gateway}` });
    }
  }
  return issues;
}

/** Where a NIC lands: the network it is on (for address uniqueness) and its PVE bridge and tag. */
interface NicTarget {
  network: string;
  bridge: string;
  tag?: number | undefined;
  subnets: SubnetRef[];
}

function nicTarget(nic: LabNic, networks: LabNetworks, subnets: SubnetRef[]): NicTarget | undefined {
  if (nic.bridge) {
    return { network: `bridge ${nic.bridge}/${nic.tag ?? '-'}`, bridge: nic.bridge, tag: nic.tag, subnets: [] };
  }
  const vnet = networks.vnets.find((v) => v.name === nic.vnet);
  if (!vnet) return undefined;
  const own = subnets.filter((s) => s.vnet === vnet.name);
  if (networks.zone) return { network: `vnet ${vnet.name}`, bridge: vnet.name, subnets: own };
  return { network: `vnet ${vnet.name}`, bridge: vnet.bridge ?? '', tag: vnet.tag, subnets: own };
}

/** The members' NICs as PVE gets them, and the issues of every NIC in the file. */
export function resolveNics(
  spec: Pick<LabSpec, 'networks' | 'vms'>,
  members: readonly LabMember[],
): { issues: LabIssue[]; warnings: LabIssue[]; nics: Map<string, MemberNic[]> } {
  const issues: LabIssue[] = [];
  const warnings: LabIssue[] = [];
  const nics = new Map<string, MemberNic[]>();
  const subnets = labSubnets(spec.networks);
  const taken = new Map<string, { member: string; path: string }>();
  const known = quoteList(spec.networks.vnets.map((v) => v.name));
  spec.vms.forEach((vm, vmIndex) => {
    const own = members.filter((m) => m.vmIndex === vmIndex);
    if (vm.networks === undefined) return;
    for (const m of own) nics.set(m.name, []);
    vm.networks.forEach((nic, n) => {
      const at = (key?: string) => formatPath(['vms', vmIndex, 'networks', n, ...(key ? [key] : [])]);
      const target = nicTarget(nic, spec.networks, subnets);
      if (!target) {
        issues.push({ path: at('vnet'), message: `unknown vnet '${nic.vnet}' (vnets: ${known})` });
        return;
      }
      const base = { bridge: target.bridge, ...(target.tag !== undefined ? { tag: target.tag } : {}) };
      if (nic.address === undefined || nic.address === 'dhcp') {
        if (nic.address === 'dhcp' && nic.gateway !== undefined) {
          issues.push({ path: at('gateway'), message: 'a DHCP address gets its gateway from DHCP' });
        }
        if (nic.address === 'dhcp' && target.subnets.length > 0 && !target.subnets.some((s) => s.dhcp)) {
          warnings.push({
            path: at('address'),
            message: `no DHCP range on ${target.network}: something in it must serve DHCP`,
          });
        }
        for (const m of own) nics.get(m.name)!.push({ ...base, ...(nic.address ? { address: 'dhcp' } : {}) });
        return;
      }
      const statics = staticAddresses(nic, target, vm.name, own, at, spec.networks.zone?.type, issues);
      if (!statics) return;
      statics.forEach(({ member, address, prefix }) => {
        const key = `${target.network} ${formatIp(address)}`;
        const owner = taken.get(key);
        if (owner && owner.member !== member) {
          issues.push({
            path: at('address'),
            message: `${member} would get ${formatIp(address)}, which ${owner.member} (${owner.path}) already has`,
          });
        } else {
          taken.set(key, { member, path: at() });
        }
        nics.get(member)!.push({
          ...base,
          address: `${formatIp(address)}/${prefix}`,
          ...(nic.gateway !== undefined ? { gateway: nic.gateway } : {}),
        });
      });
    });
  });
  return { issues, warnings, nics };
}

/** Each member's static address (the first member's plus its position), or undefined after an issue. */
function staticAddresses(
  nic: LabNic,
  target: NicTarget,
  vm: string,
  members: readonly LabMember[],
  at: (key?: string) => string,
  zoneType: string | undefined,
  issues: LabIssue[],
): { member: string; address: IpAddress; prefix: number }[] | undefined {
  const text = nic.address!;
  const withPrefix = parseIpWithPrefix(text);
  const first = withPrefix?.address ?? parseIp(text);
  if (!first) return undefined; // the schema refused it already
  const home = target.subnets.find((s) => cidrContains(s.cidr, first));
  if (target.subnets.length > 0 && !home) {
    const blocks = target.subnets.map((s) => formatCidr(s.cidr)).join(', ');
    issues.push({ path: at('address'), message: `${text} is outside the subnets of ${target.network} (${blocks})` });
    return undefined;
  }
  if (withPrefix && home && withPrefix.prefix !== home.cidr.prefix) {
    issues.push({ path: at('address'), message: `${text} does not match subnet ${formatCidr(home.cidr)}'s prefix` });
    return undefined;
  }
  const prefix = withPrefix?.prefix ?? home?.cidr.prefix;
  if (prefix === undefined) {
    issues.push({ path: at('address'), message: `${text} needs a prefix length (e.g. ${text}/24)` });
    return undefined;
  }
  const block = home?.cidr ?? parseCidr(`${formatIp(first)}/${prefix}`)!;
  if (nic.gateway !== undefined) {
    const gw = parseIp(nic.gateway);
    if (gw && !cidrContains(block, gw)) {
      issues.push({ path: at('gateway'), message: `${nic.gateway} is not in ${formatCidr(block)}, the NIC's network` });
    }
  }
  const out: { member: string; address: IpAddress; prefix: number }[] = [];
  for (const m of members) {
    const address = addToIp(first, m.ordinal - 1);
    const problem = addressProblem(address, block, home, zoneType);
    if (problem || !address) {
      const shown = address ? formatIp(address) : `${formatIp(first)} + ${m.ordinal - 1}`;
      const what = problem ?? 'is past the end of the address space';
      const message =
        members.length > 1
          ? `${m.name} (member ${m.ordinal} of '${vm}') would get ${shown}, which ${what}`
          : `${shown} ${what}`;
      issues.push({ path: at('address'), message });
      return undefined;
    }
    out.push({ member: m.name, address, prefix });
  }
  return out;
}

function addressProblem(
  address: IpAddress | undefined,
  block: Cidr,
  home: SubnetRef | undefined,
  zoneType: string | undefined,
): string | undefined {
  if (!address) return undefined;
  if (!cidrContains(block, address)) return `is outside ${formatCidr(block)}`;
  if (isReservedHost(block, address)) return `is not a host address of ${formatCidr(block)}`;
  if (!home) return undefined;
  const gateway = home.subnet.gateway === undefined ? undefined : parseIp(home.subnet.gateway);
  if (zoneType === 'simple' && gateway && gateway.value === address.value) {
    return `is the gateway of ${formatCidr(block)}, which a simple zone gives to the node's bridge`;
  }
  if (home.dhcp && address.value >= home.dhcp.start.value && address.value <= home.dhcp.end.value) {
    const { start, end } = home.dhcp;
    return `is inside the DHCP range ${formatIp(start)}–${formatIp(end)} of ${formatCidr(block)}`;
  }
  return undefined;
}
