// PVE's network and SDN parameter formats, each checked as its registered verifier does and failing with its text.
// Sources: proxmox/pve-common src/PVE/JSONSchema.pm (ip, ipv4, ipv6, mac-addr, address, urlencoded, pve-bridge-id),
// proxmox/pve-network src/PVE/Network/SDN/*Plugin.pm and Fabrics.pm as released with PVE 9.1 (the SDN ids were
// registered formats then: parse_sdn_zone_id, parse_sdn_vnet_id, parse_sdn_subnet_id, pve_verify_sdn_bgp_rt).
import { isIPv4, isIPv6 } from 'node:net';
import { formats, listOf, type PveFormat, perlMatch } from './param-formats';
import { propertyFormat } from './property-string';

const chomp = (v: string): string => (v.endsWith('\n') ? v.slice(0, -1) : v);

/** $IPV4RE: four decimal octets without leading zeros (node:net agrees). */
export const isIpv4 = (v: string): boolean => isIPv4(chomp(v));
/** $IPV6RE: no zone index. */
export const isIpv6 = (v: string): boolean => !v.includes('%') && isIPv6(chomp(v));
export const isIp = (v: string): boolean => isIpv4(v) || isIpv6(v);

const byTest = (name: string, ok: (v: string) => boolean, message: (v: string) => string): PveFormat => ({
  name,
  check: (v) => (ok(v) ? undefined : `${message(v)}\n`),
});

// pve_verify_ip: "value does not look like a valid IP address"
const ip = byTest('ip', isIp, () => 'value does not look like a valid IP address');
// pve_verify_ipv4 / pve_verify_ipv6
const ipv4 = byTest('ipv4', isIpv4, () => 'value does not look like a valid IPv4 address');
const ipv6 = byTest('ipv6', isIpv6, () => 'value does not look like a valid IPv6 address');

// pve_verify_address: an IP or a DNS name; "value does not look like a valid address: $addr"
const address = byTest(
  'address',
  (v) => isIp(v) || formats.dnsName.check(v) === undefined,
  (v) => `value does not look like a valid address: ${v}`,
);

// pve_verify_mac_addr: `m/^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$/i` (no I/G bit);
//   "value does not look like a valid unicast MAC address"
const macAddr = byTest(
  'mac-addr',
  (v) => perlMatch(/^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$/i, v),
  () => 'value does not look like a valid unicast MAC address',
);

// pve_verify_urlencoded: `$text !~ /^[-%a-zA-Z0-9_.!~*'()]*$/` → "invalid urlencoded string: $text"
const urlencoded = byTest(
  'urlencoded',
  (v) => perlMatch(/^[-%a-zA-Z0-9_.!~*'()]*$/, v),
  (v) => `invalid urlencoded string: ${v}`,
);

// parse_bridge_id: `m/^[-_.\w\d]+$/` → "invalid bridge ID '$id'"
const bridgeId = byTest(
  'pve-bridge-id',
  (v) => perlMatch(/^[-_.\w\d]+$/, v),
  (v) => `invalid bridge ID '${v}'`,
);

/** pve-network's SDN id verifiers: illegal characters first, then the length. */
function sdnId(name: string, what: string, maxLength?: number): PveFormat {
  return {
    name,
    check(v) {
      if (!perlMatch(/^[a-z][a-z0-9]*[a-z0-9]$/i, v)) return `${what} ID '${v}' contains illegal characters\n`;
      if (maxLength !== undefined && [...v].length > maxLength) {
        return `${what} ID '${v}' can't be more length than ${maxLength} characters\n`;
      }
      return undefined;
    },
  };
}

/** A CIDR pve_verify_cidrv4 / pve_verify_cidrv6 take (prefix 8..32, 8..128). */
export function isCidr(v: string): boolean {
  const m = /^([^/]+)\/(\d+)$/.exec(chomp(v));
  if (!m) return false;
  const bits = Number(m[2]);
  if (isIpv4(m[1]!)) return bits > 7 && bits <= 32;
  if (isIpv6(m[1]!)) return bits > 7 && bits <= 128;
  return false;
}

/** parse_sdn_subnet_id: a CIDR, or an id `<zone>-<network>-<mask>` whose network and mask form one. */
export function subnetIdCidr(id: string): string {
  if (id.includes('/')) return id;
  const [, network, mask] = id.split('-');
  return `${network}/${mask}`;
}
const sdnSubnetId = byTest(
  'pve-sdn-subnet-id',
  (v) => isCidr(subnetIdCidr(v)),
  () => 'value does not look like a valid CIDR network',
);

// pve_verify_sdn_bgp_rt: `<asn>:<id>`, both 0..4294967295; "value does not look like a valid bgp route-target"
const bgpRt = byTest(
  'pve-sdn-bgp-rt',
  (v) => {
    const m = /^(\d+):(\d+)$/.exec(chomp(v));
    return m !== null && Number(m[1]) <= 4_294_967_295 && Number(m[2]) <= 4_294_967_295;
  },
  () => 'value does not look like a valid bgp route-target',
);

// Fabrics.pm: `m/^[a-zA-Z0-9][a-zA-Z0-9-]{0,6}[a-zA-Z0-9]?$/i` → "Fabric ID '$id' contains illegal characters"
const fabricId = byTest(
  'pve-sdn-fabric-id',
  (v) => perlMatch(/^[a-zA-Z0-9][a-zA-Z0-9-]{0,6}[a-zA-Z0-9]?$/i, v),
  (v) => `Fabric ID '${v}' contains illegal characters`,
);

/** SubnetPlugin's $dhcp_range_fmt: both addresses required (checked as IPs by validate_dhcp_ranges). */
export const DHCP_RANGE_FORMAT = {
  'start-address': { type: 'string' },
  'end-address': { type: 'string' },
} as const;

export const netFormats = {
  ip,
  ipv4,
  ipv6,
  ipList: listOf(ip),
  address,
  addressList: listOf(address),
  macAddr,
  urlencoded,
  bridgeId,
  sdnZoneId: sdnId('pve-sdn-zone-id', 'zone', 8),
  sdnVnetId: sdnId('pve-sdn-vnet-id', 'vnet', 8),
  sdnSubnetId,
  sdnDhcpRange: propertyFormat('pve-sdn-dhcp-range', DHCP_RANGE_FORMAT),
  sdnBgpRtList: listOf(bgpRt),
  sdnFabricId: fabricId,
} as const satisfies Record<string, PveFormat>;
