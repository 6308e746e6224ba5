// Guest network devices as qemu-server (QemuServer/Network.pm $net_fmt) and pve-container (LXC/Config.pm
// $netconf_desc) describe them: parsed from `netN` with PVE's errors, printed back the way PVE writes them (a MAC
// added when none was given), and the bridge they attach to.
import { PveParamError } from './errors';
import { ipv4Config, ipv6Config } from './guest-formats';
import { netFormats } from './net-formats';
import { type PropertyFormat, PropertyStringError, parseProperty, printProperty } from './property-string';
import { macFor } from './state';
import type { SimVm } from './types';

const NIC_MODELS = [
  'e1000',
  'e1000-82540em',
  'e1000-82544gc',
  'e1000-82545em',
  'e1000e',
  'i82551',
  'i82557b',
  'i82559er',
  'ne2k_isa',
  'ne2k_pci',
  'pcnet',
  'rtl8139',
  'virtio',
  'vmxnet3',
] as const;

export const QEMU_NET_FORMAT: PropertyFormat = {
  macaddr: { type: 'string', optional: true, format: netFormats.macAddr },
  model: { type: 'string', enum: NIC_MODELS, defaultKey: true },
  ...Object.fromEntries(NIC_MODELS.map((m) => [m, { type: 'string', keyAlias: 'model', alias: 'macaddr' } as const])),
  bridge: { type: 'string', optional: true, format: netFormats.bridgeId },
  queues: { type: 'integer', optional: true, min: 0, max: 64 },
  rate: { type: 'number', optional: true, min: 0 },
  tag: { type: 'integer', optional: true, min: 1, max: 4094 },
  trunks: { type: 'string', optional: true, pattern: '\\d+(?:-\\d+)?(?:;\\d+(?:-\\d+)?)*' },
  firewall: { type: 'boolean', optional: true },
  link_down: { type: 'boolean', optional: true },
  mtu: { type: 'integer', optional: true, min: 1, max: 65520 },
  'host-tunnel': { type: 'boolean', optional: true },
};

export const LXC_NET_FORMAT: PropertyFormat = {
  type: { type: 'string', optional: true, enum: ['veth'] },
  name: { type: 'string', pattern: '[-_.\\w\\d]+' },
  bridge: { type: 'string', optional: true, pattern: '[-_.\\w\\d]+' },
  hwaddr: { type: 'string', optional: true, format: netFormats.macAddr },
  mtu: { type: 'integer', optional: true, min: 64, max: 65535 },
  ip: { type: 'string', optional: true, format: ipv4Config },
  gw: { type: 'string', optional: true, format: netFormats.ipv4 },
  ip6: { type: 'string', optional: true, format: ipv6Config },
  gw6: { type: 'string', optional: true, format: netFormats.ipv6 },
  firewall: { type: 'boolean', optional: true },
  tag: { type: 'integer', optional: true, min: 1, max: 4094 },
  trunks: { type: 'string', optional: true, pattern: '\\d+(?:;\\d+)*' },
  rate: { type: 'number', optional: true },
  link_down: { type: 'boolean', optional: true },
  'host-managed': { type: 'boolean', optional: true },
};

const formatOf = (vm: SimVm): PropertyFormat => (vm.type === 'lxc' ? LXC_NET_FORMAT : QEMU_NET_FORMAT);

/** The schema check of a `netN` value: 400 "invalid format - ..." naming the option, as JSONSchema answers it. */
export function parseNic(vm: SimVm, key: string, value: string): Record<string, string | number | boolean> {
  try {
    return parseProperty(formatOf(vm), value, key);
  } catch (err) {
    if (err instanceof PropertyStringError) throw new PveParamError({ [key]: `invalid format - ${err.message}` });
    throw err;
  }
}

/** A MAC for a NIC without one: net0 keeps the guest's usual one; others derive from the VMID and index. */
const macOf = (vm: SimVm, key: string): string => {
  const index = Number(key.replace(/^net/, ''));
  return macFor(index === 0 ? vm.vmid : vm.vmid * 64 + index);
};

/**
 * The value PVE writes for a `netN`: qemu-server's parse_net/print_net (model=MAC first) or pve-container's
 * parse_lxc_network/print_lxc_network (name first, `type=veth`); a MAC is added when none was given.
 */
export function normalizeNic(vm: SimVm, key: string, value: string): string {
  const nic = parseNic(vm, key, value);
  if (vm.type === 'lxc') {
    nic.type = 'veth';
    nic.hwaddr ??= macOf(vm, key);
  } else {
    nic.macaddr ??= macOf(vm, key);
  }
  return printProperty(formatOf(vm), nic);
}

/** The bridge a `netN` value attaches to (undefined for a QEMU user-mode NIC, or a value that does not parse). */
export function bridgeOf(vm: SimVm, value: string): string | undefined {
  try {
    const bridge = parseProperty(formatOf(vm), value, 'net').bridge;
    return bridge === undefined ? undefined : String(bridge);
  } catch {
    return undefined;
  }
}
