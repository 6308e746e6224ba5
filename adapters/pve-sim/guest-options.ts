// A guest's config as key/value pairs, the way qemu-server and pve-container keep it: the fields the simulator
// models (name, cores, memory, tags, ...) and everything else as written (SimVm.options), plus the [PENDING]
// section (SimVm.pending, SimVm.pendingDelete) that a running guest's changes wait in until its next start.
import { LXC_CONFIG_OPTIONS, QEMU_CONFIG_OPTIONS } from './guest-config-schemas';
import type { ParamSchema } from './params';
import { macFor, uuidFor } from './state';
import type { SimVm } from './types';

const MiB = 1024 ** 2;
/** Defaults when an option is deleted: qemu-server's memory default 512 MiB, cores 1. */
const DEFAULT_MEMORY_MIB = 512;

export const isCt = (vm: SimVm): boolean => vm.type === 'lxc';

/** The options every simulated guest starts with (a VM made from the usual template, a CT from a Debian one). */
export function defaultOptions(vm: SimVm): Record<string, string> {
  if (isCt(vm)) {
    return {
      arch: 'amd64',
      features: 'nesting=1',
      net0: `name=eth0,bridge=vmbr0,firewall=1,hwaddr=${macFor(vm.vmid)},ip=dhcp,type=veth`,
      ostype: 'debian',
      swap: '512',
      unprivileged: '1',
    };
  }
  return {
    sockets: '1',
    cpu: 'x86-64-v2-AES',
    ostype: 'l26',
    boot: 'order=scsi0;net0',
    scsihw: 'virtio-scsi-single',
    net0: `virtio=${macFor(vm.vmid)},bridge=vmbr0,firewall=1`,
    agent: '1',
    numa: '0',
    smbios1: `uuid=${uuidFor(vm.vmid)}`,
    vmgenid: uuidFor(vm.vmid + 0x5000_0000),
    meta: `creation-qemu=9.0.2,ctime=${vm.ctime}`,
  };
}

/** The guest's unmodelled options (its defaults until first changed). */
export const optionsOf = (vm: SimVm): Record<string, string> => vm.options ?? defaultOptions(vm);

/** The key a guest's name has in its config: `name` (VM) or `hostname` (CT). */
export const nameKey = (vm: SimVm): 'name' | 'hostname' => (isCt(vm) ? 'hostname' : 'name');

/** The current value of one config key as text, or undefined when unset. */
export function currentValue(vm: SimVm, key: string): string | undefined {
  switch (key) {
    case nameKey(vm):
      return vm.name;
    case 'cores':
      return String(vm.cores);
    case 'memory':
      return String(Math.round(vm.maxmem / MiB));
    case 'tags':
      return vm.tags.length > 0 ? vm.tags.join(';') : undefined;
    case 'description':
      return vm.description || undefined;
    case 'protection':
      return vm.protection ? '1' : undefined;
    case 'lock':
      return vm.lock;
    default:
      return optionsOf(vm)[key];
  }
}

/** Sets one config key (current config, not pending). */
export function setValue(vm: SimVm, key: string, value: string): void {
  switch (key) {
    case nameKey(vm):
      vm.name = value;
      return;
    case 'cores':
      vm.cores = Number(value);
      return;
    case 'memory':
      // qemu's memory is `[current=]<MiB>`
      vm.maxmem = Number(value.replace(/^current=/, '').split(',')[0]) * MiB;
      return;
    case 'tags':
      vm.tags = value.split(/[;,\s]+/).filter(Boolean);
      return;
    case 'description':
      vm.description = value;
      return;
    case 'protection':
      vm.protection = value === '1';
      return;
    case 'lock':
      vm.lock = value;
      return;
    default:
      vm.options = { ...optionsOf(vm), [key]: value };
  }
}

/** Removes one config key (current config). A removed name reads as PVE's vmstatus shows it: "VM <vmid>". */
export function deleteValue(vm: SimVm, key: string): void {
  switch (key) {
    case nameKey(vm):
      vm.name = `${isCt(vm) ? 'CT' : 'VM'} ${vm.vmid}`;
      return;
    case 'cores':
      vm.cores = 1;
      return;
    case 'memory':
      vm.maxmem = DEFAULT_MEMORY_MIB * MiB;
      return;
    case 'tags':
      vm.tags = [];
      return;
    case 'description':
      vm.description = undefined;
      return;
    case 'protection':
      vm.protection = false;
      return;
    case 'lock':
      vm.lock = undefined;
      return;
    default: {
      const { [key]: _gone, ...rest } = optionsOf(vm);
      vm.options = rest;
    }
  }
}

/** vmconfig_apply_pending: every pending value and deletion becomes the current config. */
export function applyPending(vm: SimVm): void {
  for (const key of vm.pendingDelete ?? []) deleteValue(vm, key);
  for (const [key, value] of Object.entries(vm.pending ?? {})) setValue(vm, key, value);
  vm.pending = undefined;
  vm.pendingDelete = undefined;
}

/** Whether the guest has pending changes. */
export const hasPending = (vm: SimVm): boolean =>
  Object.keys(vm.pending ?? {}).length > 0 || (vm.pendingDelete ?? []).length > 0;

const schemaOf = (vm: SimVm): ParamSchema => (isCt(vm) ? LXC_CONFIG_OPTIONS : QEMU_CONFIG_OPTIONS);

/** A config value as PVE's JSON carries it: integer, number and boolean options as numbers. */
export function typedValue(vm: SimVm, key: string, value: string): string | number {
  const type = schemaOf(vm)[key]?.type;
  return type === 'integer' || type === 'number' || type === 'boolean' ? Number(value) : value;
}

/** The unmodelled options as GET .../config shows them: typed, and with pending values unless `current`. */
export function optionsView(vm: SimVm, current: boolean): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  const opts = { ...optionsOf(vm) };
  if (!current) {
    for (const key of vm.pendingDelete ?? []) delete opts[key];
    for (const [key, value] of Object.entries(vm.pending ?? {})) opts[key] = value;
  }
  // vm_config: `$conf->{cipassword} = '**********' if $conf->{cipassword};`
  for (const [key, value] of Object.entries(opts))
    out[key] = key === 'cipassword' ? '**********' : typedValue(vm, key, value);
  return out;
}

/** The modelled fields with pending values applied (for GET .../config without `current`). */
export function pendingView(vm: SimVm): SimVm {
  if (!hasPending(vm)) return vm;
  const copy: SimVm = { ...vm, tags: [...vm.tags], options: { ...optionsOf(vm) } };
  applyPending(copy);
  return copy;
}

/**
 * cleanup_pending (PVE::AbstractConfig): values equal to the current ones, and deletions of what is not set, are no
 * change. Stores what is left on the guest; false when nothing is pending any more.
 */
export function settlePending(vm: SimVm, pending: Record<string, string>, pendingDelete: string[]): boolean {
  for (const [k, v] of Object.entries(pending)) if (currentValue(vm, k) === v) delete pending[k];
  vm.pending = pending;
  vm.pendingDelete = pendingDelete.filter((k) => currentValue(vm, k) !== undefined);
  if (hasPending(vm)) return true;
  vm.pending = undefined;
  vm.pendingDelete = undefined;
  return false;
}
