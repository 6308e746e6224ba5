// The named formats of guest config options (qemu-server's json_config_properties, pve-container's
// json_config_properties), by the names apidata gives them. Those the simulator acts on are checked as PVE's verifiers
// check them (pve-common JSONSchema.pm, qemu-server QemuServer.pm / Network.pm, pve-storage Storage.pm); the others
// describe hardware or guest internals the simulator stores uninterpreted and are taken as text (`stored`).
import { isCidr, isIpv4, isIpv6, netFormats } from './net-formats';
import { formats, listOf, type PveFormat, perlMatch } from './param-formats';
import { type PropertyFormat, propertyFormat } from './property-string';

/** A named format whose values the simulator keeps as written without interpreting them. */
const stored = (name: string): PveFormat => ({ name, check: () => undefined });

const chomp = (v: string): string => (v.endsWith('\n') ? v.slice(0, -1) : v);

// pve_verify_ipv4_config: dhcp, manual or a v4 CIDR; "value does not look like a valid ipv4 network configuration"
export const ipv4Config: PveFormat = {
  name: 'pve-ipv4-config',
  check: (v) =>
    /^(?:dhcp|manual)$/.test(chomp(v)) || (isCidr(v) && isIpv4(chomp(v).split('/')[0]!))
      ? undefined
      : 'value does not look like a valid ipv4 network configuration\n',
};

// pve_verify_ipv6_config: auto, dhcp, manual or a v6 CIDR
export const ipv6Config: PveFormat = {
  name: 'pve-ipv6-config',
  check: (v) =>
    /^(?:auto|dhcp|manual)$/.test(chomp(v)) || (isCidr(v) && isIpv6(chomp(v).split('/')[0]!))
      ? undefined
      : 'value does not look like a valid ipv6 network configuration\n',
};

/** qemu-server's $ipconfig_fmt (cloud-init `ipconfigN`): gateways need an address of their family. */
export const IPCONFIG_FORMAT: PropertyFormat = {
  ip: { type: 'string', optional: true, format: ipv4Config },
  gw: { type: 'string', optional: true, format: netFormats.ipv4, requires: 'ip' },
  ip6: { type: 'string', optional: true, format: ipv6Config },
  gw6: { type: 'string', optional: true, format: netFormats.ipv6, requires: 'ip6' },
};

/** pve_parse_startup_order: `[[order=]<n>][,up=<n>][,down=<n>]`; "unable to parse startup options". */
const startupOrder: PveFormat = {
  name: 'pve-startup-order',
  check(v) {
    const ok = chomp(v)
      .split(',')
      .every((part) => /^(?:order=)?\d+$/.test(part) || /^(?:up|down)=\d+$/.test(part));
    return ok ? undefined : 'unable to parse startup options\n';
  },
};

/** parse_hotplug_features: 0, 1 or a list of network, disk, cpu, memory, usb, cloudinit. */
export function hotplugFeatures(value: string): Set<string> {
  if (value === '0') return new Set();
  const list = value === '1' ? 'network,disk,usb' : value;
  return new Set(list.split(/[,;\s]+/).filter(Boolean));
}
const hotplug: PveFormat = {
  name: 'pve-hotplug-features',
  check(v) {
    if (v === '0' || v === '1') return undefined;
    const bad = [...hotplugFeatures(v)].find((f) => !/^(network|disk|cpu|memory|usb|cloudinit)$/.test(f));
    return bad === undefined ? undefined : `invalid hotplug feature '${bad}'\n`;
  },
};

/** QemuServer::Drive valid_drive_names. */
export const DRIVE_NAMES: readonly string[] = [
  ...Array.from({ length: 4 }, (_, i) => `ide${i}`),
  ...Array.from({ length: 31 }, (_, i) => `scsi${i}`),
  ...Array.from({ length: 16 }, (_, i) => `virtio${i}`),
  ...Array.from({ length: 6 }, (_, i) => `sata${i}`),
  'efidisk0',
  'tpmstate0',
];

// pve_verify_bootdisk: "invalid boot disk '$value'"
const bootdisk: PveFormat = {
  name: 'pve-qm-bootdisk',
  check: (v) => (DRIVE_NAMES.includes(chomp(v)) ? undefined : `invalid boot disk '${v}'\n`),
};

// PVE::Storage::parse_volume_id: `<storage>:<volume>`; "unable to parse volume ID '$volid'"
const volumeId: PveFormat = {
  name: 'pve-volume-id',
  check: (v) =>
    perlMatch(/^([a-z][a-z0-9\-_.]*[a-z0-9]):([\s\S]+)$/i, v) ? undefined : `unable to parse volume ID '${v}'\n`,
};

/** Formats by the name apidata gives them. */
export const F: Record<string, PveFormat> = {
  'pve-node': formats.node,
  'pve-vmid': formats.vmid,
  'pve-storage-id': formats.storageId,
  'pve-configid-list': formats.configIdList,
  'pve-tag-list': formats.tagList,
  'dns-name': formats.dnsName,
  'dns-name-list': listOf(formats.dnsName),
  'address-list': netFormats.addressList,
  urlencoded: netFormats.urlencoded,
  'pve-qm-ipconfig': propertyFormat('pve-qm-ipconfig', IPCONFIG_FORMAT),
  'pve-startup-order': startupOrder,
  'pve-hotplug-features': hotplug,
  'pve-qm-bootdisk': bootdisk,
  'pve-volume-id': volumeId,
  // Hardware and guest internals the simulator keeps as written.
  'pve-cpuset': stored('pve-cpuset'),
  'pve-qemu-sev-fmt': stored('pve-qemu-sev-fmt'),
  'pve-qemu-tdx-fmt': stored('pve-qemu-tdx-fmt'),
  'pve-qm-boot': stored('pve-qm-boot'),
  'pve-qm-ide': stored('pve-qm-ide'),
  'pve-qm-cicustom': stored('pve-qm-cicustom'),
  'pve-vm-cpu-conf': stored('pve-vm-cpu-conf'),
  'pve-qm-hostpci': stored('pve-qm-hostpci'),
  'pve-qm-rng': stored('pve-qm-rng'),
  'pve-qm-smbios1': stored('pve-qm-smbios1'),
  'pve-qm-watchdog': stored('pve-qm-watchdog'),
  'pve-ct-timezone': stored('pve-ct-timezone'),
  'lxc-ip-with-ll-iface-list': stored('lxc-ip-with-ll-iface-list'),
};
