// The parameters of POST/PUT /nodes/{node}/qemu/{vmid}/config (qemu-server's json_config_properties plus the
// update's own) and PUT /nodes/{node}/lxc/{vmid}/config (pve-container's), as pve-docs apidata.js lists them.
// apidata names an indexed option once (`net[n]`); PVE takes net0..net31 and so on, as here.
import { F } from './guest-formats';
import type { ParamSchema, ParamSpec } from './params';

/** `<prefix>0` .. `<prefix><count - 1>`, each with `spec`. */
const indexed = (prefix: string, count: number, spec: ParamSpec): Record<string, ParamSpec> =>
  Object.fromEntries(Array.from({ length: count }, (_, i) => [`${prefix}${i}`, spec]));

/** An option whose value is a property string (apidata's format is the set of its keys). */
const text = { type: 'string', optional: true } as const;

/** qemu-server's counts: MAX_NETS, MAX_IDE_DISKS, ... (QemuServer.pm, QemuServer/Drive.pm, PCI.pm, USB.pm). */
export const QEMU_INDEXED = {
  net: 32,
  ipconfig: 32,
  ide: 4,
  sata: 6,
  scsi: 31,
  virtio: 16,
  unused: 256,
  hostpci: 16,
  usb: 14,
  serial: 4,
  parallel: 3,
  numa: 8,
  virtiofs: 10,
} as const;

const QEMU_OPTIONS: ParamSchema = {
  acpi: { type: 'boolean', optional: true },
  affinity: { type: 'string', optional: true, format: F['pve-cpuset'] },
  agent: text,
  'allow-ksm': { type: 'boolean', optional: true },
  'amd-sev': { type: 'string', optional: true, format: F['pve-qemu-sev-fmt'] },
  arch: { type: 'string', optional: true, enum: ['x86_64', 'aarch64'] },
  args: { type: 'string', optional: true },
  audio0: text,
  autostart: { type: 'boolean', optional: true },
  balloon: { type: 'integer', optional: true, min: 0 },
  bios: { type: 'string', optional: true, enum: ['seabios', 'ovmf'] },
  boot: { type: 'string', optional: true, format: F['pve-qm-boot'] },
  bootdisk: { type: 'string', optional: true, pattern: '(ide|sata|scsi|virtio)\\d+', format: F['pve-qm-bootdisk'] },
  cdrom: { type: 'string', optional: true, format: F['pve-qm-ide'] },
  cicustom: { type: 'string', optional: true, format: F['pve-qm-cicustom'] },
  cipassword: { type: 'string', optional: true },
  citype: { type: 'string', optional: true, enum: ['configdrive2', 'nocloud', 'opennebula'] },
  ciupgrade: { type: 'boolean', optional: true },
  ciuser: { type: 'string', optional: true },
  cores: { type: 'integer', optional: true, min: 1 },
  cpu: { type: 'string', optional: true, format: F['pve-vm-cpu-conf'] },
  cpulimit: { type: 'number', optional: true, min: 0, max: 128 },
  cpuunits: { type: 'integer', optional: true, min: 1, max: 262144 },
  description: { type: 'string', optional: true, maxLength: 8192 },
  efidisk0: text,
  freeze: { type: 'boolean', optional: true },
  hookscript: { type: 'string', optional: true, format: F['pve-volume-id'] },
  hotplug: { type: 'string', optional: true, format: F['pve-hotplug-features'] },
  hugepages: { type: 'string', optional: true, enum: ['any', '2', '1024'] },
  'intel-tdx': { type: 'string', optional: true, format: F['pve-qemu-tdx-fmt'] },
  ivshmem: text,
  keephugepages: { type: 'boolean', optional: true },
  keyboard: {
    type: 'string',
    optional: true,
    enum: [
      'de',
      'de-ch',
      'da',
      'en-gb',
      'en-us',
      'es',
      'fi',
      'fr',
      'fr-be',
      'fr-ca',
      'fr-ch',
      'hu',
      'is',
      'it',
      'ja',
      'lt',
      'mk',
      'nl',
      'no',
      'pl',
      'pt',
      'pt-br',
      'sv',
      'sl',
      'tr',
    ],
  },
  kvm: { type: 'boolean', optional: true },
  localtime: { type: 'boolean', optional: true },
  lock: {
    type: 'string',
    optional: true,
    enum: [
      'backup',
      'clone',
      'create',
      'migrate',
      'rollback',
      'snapshot',
      'snapshot-delete',
      'suspending',
      'suspended',
    ],
  },
  machine: text,
  memory: text,
  migrate_downtime: { type: 'number', optional: true, min: 0 },
  migrate_speed: { type: 'integer', optional: true, min: 0 },
  name: { type: 'string', optional: true, format: F['dns-name'] },
  nameserver: { type: 'string', optional: true, format: F['address-list'] },
  numa: { type: 'boolean', optional: true },
  onboot: { type: 'boolean', optional: true },
  ostype: {
    type: 'string',
    optional: true,
    enum: ['other', 'wxp', 'w2k', 'w2k3', 'w2k8', 'wvista', 'win7', 'win8', 'win10', 'win11', 'l24', 'l26', 'solaris'],
  },
  protection: { type: 'boolean', optional: true },
  reboot: { type: 'boolean', optional: true },
  rng0: { type: 'string', optional: true, format: F['pve-qm-rng'] },
  scsihw: {
    type: 'string',
    optional: true,
    enum: ['lsi', 'lsi53c810', 'virtio-scsi-pci', 'virtio-scsi-single', 'megasas', 'pvscsi'],
  },
  searchdomain: { type: 'string', optional: true },
  shares: { type: 'integer', optional: true, min: 0, max: 50000 },
  smbios1: { type: 'string', optional: true, maxLength: 512, format: F['pve-qm-smbios1'] },
  smp: { type: 'integer', optional: true, min: 1 },
  sockets: { type: 'integer', optional: true, min: 1 },
  spice_enhancements: text,
  sshkeys: { type: 'string', optional: true, format: F.urlencoded },
  startdate: {
    type: 'string',
    optional: true,
    pattern: '(now|\\d{4}-\\d{1,2}-\\d{1,2}(T\\d{1,2}:\\d{1,2}:\\d{1,2})?)',
  },
  startup: { type: 'string', optional: true, format: F['pve-startup-order'] },
  tablet: { type: 'boolean', optional: true },
  tags: { type: 'string', optional: true, format: F['pve-tag-list'] },
  tdf: { type: 'boolean', optional: true },
  template: { type: 'boolean', optional: true },
  tpmstate0: text,
  vcpus: { type: 'integer', optional: true, min: 1 },
  vga: text,
  vmgenid: { type: 'string', optional: true, pattern: '(?:[a-fA-F0-9]{8}(?:-[a-fA-F0-9]{4}){3}-[a-fA-F0-9]{12}|[01])' },
  vmstatestorage: { type: 'string', optional: true, format: F['pve-storage-id'] },
  watchdog: { type: 'string', optional: true, format: F['pve-qm-watchdog'] },
  ...indexed('net', QEMU_INDEXED.net, text),
  ...indexed('ipconfig', QEMU_INDEXED.ipconfig, { type: 'string', optional: true, format: F['pve-qm-ipconfig'] }),
  ...indexed('ide', QEMU_INDEXED.ide, text),
  ...indexed('sata', QEMU_INDEXED.sata, text),
  ...indexed('scsi', QEMU_INDEXED.scsi, text),
  ...indexed('virtio', QEMU_INDEXED.virtio, text),
  ...indexed('unused', QEMU_INDEXED.unused, text),
  ...indexed('hostpci', QEMU_INDEXED.hostpci, { type: 'string', optional: true, format: F['pve-qm-hostpci'] }),
  ...indexed('usb', QEMU_INDEXED.usb, text),
  ...indexed('serial', QEMU_INDEXED.serial, { type: 'string', optional: true, pattern: '(/dev/.+|socket)' }),
  ...indexed('parallel', QEMU_INDEXED.parallel, {
    type: 'string',
    optional: true,
    pattern: '/dev/parport\\d+|/dev/usb/lp\\d+',
  }),
  ...indexed('numa', QEMU_INDEXED.numa, text),
  ...indexed('virtiofs', QEMU_INDEXED.virtiofs, text),
};

/** The update's own parameters (Qemu.pm update_vm / update_vm_async). */
const QEMU_UPDATE = {
  node: { type: 'string', format: F['pve-node'] },
  vmid: { type: 'integer', min: 100, max: 999_999_999, format: F['pve-vmid'] },
  skiplock: { type: 'boolean', optional: true },
  delete: { type: 'string', optional: true, format: F['pve-configid-list'] },
  revert: { type: 'string', optional: true, format: F['pve-configid-list'] },
  force: { type: 'boolean', optional: true, requires: 'delete' },
  digest: { type: 'string', optional: true, maxLength: 40 },
} as const satisfies ParamSchema;

/** The options a QEMU config holds (what `delete` and `revert` may name). */
export const QEMU_CONFIG_OPTIONS: ParamSchema = QEMU_OPTIONS;

/** PUT .../qemu/{vmid}/config (synchronous). */
export const QEMU_PUT_SCHEMA: ParamSchema = { ...QEMU_OPTIONS, ...QEMU_UPDATE };

/** POST .../qemu/{vmid}/config (a qmconfig task). */
export const QEMU_POST_SCHEMA: ParamSchema = {
  ...QEMU_PUT_SCHEMA,
  background_delay: { type: 'integer', optional: true, min: 1, max: 30 },
  'import-working-storage': { type: 'string', optional: true, format: F['pve-storage-id'] },
};

/** pve-container's counts ($MAX_MOUNT_POINTS, $MAX_UNUSED_DISKS, $MAX_LXC_NETWORKS, $MAX_DEVICES). */
export const LXC_INDEXED = { net: 32, mp: 256, unused: 256, dev: 256 } as const;

const LXC_OPTIONS: ParamSchema = {
  arch: { type: 'string', optional: true, enum: ['amd64', 'i386', 'arm64', 'armhf', 'riscv32', 'riscv64'] },
  cmode: { type: 'string', optional: true, enum: ['shell', 'console', 'tty'] },
  console: { type: 'boolean', optional: true },
  cores: { type: 'integer', optional: true, min: 1, max: 8192 },
  cpulimit: { type: 'number', optional: true, min: 0, max: 8192 },
  cpuunits: { type: 'integer', optional: true, min: 0, max: 500000 },
  debug: { type: 'boolean', optional: true },
  description: { type: 'string', optional: true, maxLength: 8192 },
  // apidata writes these as Perl's stringified qr// ("(?^:...)"): here the same patterns in JavaScript's syntax.
  entrypoint: { type: 'string', optional: true, pattern: '[^\\x00-\\x08\\x10-\\x1F\\x7F]+' },
  env: {
    type: 'string',
    optional: true,
    pattern: '(?:\\w+=[^\\x00-\\x08\\x10-\\x1F\\x7F]*)(?:\\0\\w+=[^\\x00-\\x08\\x10-\\x1F\\x7F]*)*',
  },
  features: text,
  hookscript: { type: 'string', optional: true, format: F['pve-volume-id'] },
  hostname: { type: 'string', optional: true, maxLength: 255, format: F['dns-name'] },
  lock: {
    type: 'string',
    optional: true,
    enum: [
      'backup',
      'create',
      'destroyed',
      'disk',
      'fstrim',
      'migrate',
      'mounted',
      'rollback',
      'snapshot',
      'snapshot-delete',
    ],
  },
  memory: { type: 'integer', optional: true, min: 16 },
  nameserver: { type: 'string', optional: true, format: F['lxc-ip-with-ll-iface-list'] },
  onboot: { type: 'boolean', optional: true },
  ostype: {
    type: 'string',
    optional: true,
    enum: [
      'debian',
      'devuan',
      'ubuntu',
      'centos',
      'fedora',
      'opensuse',
      'archlinux',
      'alpine',
      'gentoo',
      'nixos',
      'unmanaged',
    ],
  },
  protection: { type: 'boolean', optional: true },
  rootfs: text,
  searchdomain: { type: 'string', optional: true, format: F['dns-name-list'] },
  startup: { type: 'string', optional: true, format: F['pve-startup-order'] },
  swap: { type: 'integer', optional: true, min: 0 },
  tags: { type: 'string', optional: true, format: F['pve-tag-list'] },
  template: { type: 'boolean', optional: true },
  timezone: { type: 'string', optional: true, format: F['pve-ct-timezone'] },
  tty: { type: 'integer', optional: true, min: 0, max: 6 },
  unprivileged: { type: 'boolean', optional: true },
  ...indexed('net', LXC_INDEXED.net, text),
  ...indexed('mp', LXC_INDEXED.mp, text),
  ...indexed('unused', LXC_INDEXED.unused, text),
  ...indexed('dev', LXC_INDEXED.dev, text),
};

/** The options a container config holds. */
export const LXC_CONFIG_OPTIONS: ParamSchema = LXC_OPTIONS;

/** PUT .../lxc/{vmid}/config. */
export const LXC_PUT_SCHEMA: ParamSchema = {
  ...LXC_OPTIONS,
  node: { type: 'string', format: F['pve-node'] },
  vmid: { type: 'integer', min: 100, max: 999_999_999, format: F['pve-vmid'] },
  delete: { type: 'string', optional: true, format: F['pve-configid-list'] },
  revert: { type: 'string', optional: true, format: F['pve-configid-list'] },
  digest: { type: 'string', optional: true, maxLength: 40 },
};
