// PUT /nodes/{node}/lxc/{vmid}/config, as pve-container's API2/LXC/Config.pm update_vm and LXC::Config's
// update_pct_config do it, synchronously under the container's config lock: every change goes to the [PENDING]
// section, then a stopped container gets all of it (vmconfig_apply_pending) and a running one what can change live
// (vmconfig_hotplug_pending: $LXC_FASTPLUG_OPTIONS, NICs, memory, swap, CPU limits); the rest waits for its next
// start. Mount points, rootfs and device passthrough are not modelled: such options answer 501.
import type { Principal } from './auth';
import { PveHttpError, PveParamError } from './errors';
import { assertConfigWritable, lockedText } from './guest-config';
import { LXC_CONFIG_OPTIONS } from './guest-config-schemas';
import { bridgeOf, normalizeNic, parseNic } from './guest-nics';
import { applyPending, currentValue, deleteValue, hasPending, settlePending, setValue } from './guest-options';
import { lxcConfig } from './lxc-views';
import { isRunning, type OpsContext, requireVm } from './operations';
import type { Params } from './params';
import { splitList, str } from './params';
import { uniqueTags } from './qemu-config';
import { bridgeExists } from './sdn';
import type { SimVm } from './types';

/** pve-container's $LXC_FASTPLUG_OPTIONS. */
const FAST_PLUG = new Set([
  'description',
  'onboot',
  'startup',
  'protection',
  'hostname',
  'hookscript',
  'cores',
  'tags',
  'lock',
]);
/** Options a running container takes live through its cgroup. */
const CGROUP_LIVE = new Set(['memory', 'swap', 'cpulimit', 'cpuunits']);

const asText = (v: string | number | boolean): string => (typeof v === 'boolean' ? (v ? '1' : '0') : String(v));

/** The parameters of a request that are config options. */
function optionsOf(p: Params): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(p)) {
    if (['node', 'vmid', 'digest', 'delete', 'revert'].includes(k)) continue;
    out[k] = asText(v);
  }
  return out;
}

/** Checks of update_vm before update_pct_config, in its order (HTTP 400 per parameter, 500 otherwise). */
function check(
  vm: SimVm,
  set: Record<string, string>,
  del: string[],
  revert: string[],
  digest: string | undefined,
): void {
  if (vm.lock) throw new PveHttpError(500, lockedText(vm));
  if (digest && digest !== lxcConfig(vm).digest) {
    throw new PveHttpError(500, 'detected modified configuration - file changed by other user? Try again.');
  }
  const exists = (opt: string) => opt in LXC_CONFIG_OPTIONS;
  for (const opt of revert) {
    if (!exists(opt)) throw new PveParamError({ revert: `unknown option '${opt}'` });
    if (set[opt] !== undefined)
      throw new PveParamError({ revert: `you can't use '-${opt}' and '-revert ${opt}' at the same time` });
  }
  for (const opt of del) {
    if (!exists(opt)) throw new PveParamError({ delete: `unknown option '${opt}'` });
    if (set[opt] !== undefined)
      throw new PveParamError({ delete: `you can't use '-${opt}' and -delete ${opt}' at the same time` });
    if (revert.includes(opt))
      throw new PveParamError({ delete: `you can't use '-delete ${opt}' and '-revert ${opt}' at the same time` });
  }
}

/** update_pct_config: pending first, then applied or hot-plugged; returns the hotplug errors by option. */
function updatePct(ctx: OpsContext, vm: SimVm, set: Record<string, string>, del: string[], revert: string[]) {
  const pending: Record<string, string> = { ...vm.pending };
  let pendingDelete = [...(vm.pendingDelete ?? [])];
  for (const opt of revert) {
    delete pending[opt];
    pendingDelete = pendingDelete.filter((k) => k !== opt);
  }
  for (const opt of del) {
    if (currentValue(vm, opt) === undefined && pending[opt] === undefined) continue; // "cannot delete ..." (a warning)
    if (['memory', 'rootfs', 'ostype'].includes(opt))
      throw new PveHttpError(500, `unable to delete required option '${opt}'`);
    if (/^(unused|mp)\d+$/.test(opt) && vm.protection) {
      throw new PveHttpError(500, `can't remove CT ${vm.vmid} drive '${opt}' - protection mode enabled`);
    }
    if (opt === 'unprivileged') throw new PveHttpError(500, `unable to delete read-only option: '${opt}'`);
    if (!pendingDelete.includes(opt)) pendingDelete.push(opt);
  }
  for (const opt of Object.keys(set).sort()) {
    let value = set[opt]!;
    if (opt === 'rootfs' || /^(mp|dev|unused)\d+$/.test(opt)) {
      throw new PveHttpError(501, `the simulator does not model container volumes and devices: '${opt}' cannot be set`);
    }
    if (opt === 'unprivileged') throw new PveHttpError(500, `unable to modify read-only option: '${opt}'`);
    if (opt === 'tags') value = uniqueTags(value);
    if (/^net\d+$/.test(opt)) {
      const nic = parseNic(vm, opt, value);
      // read_bridge_mtu when an MTU is given: the bridge must exist on this node
      if (nic.mtu !== undefined && nic.bridge !== undefined && !bridgeExists(ctx.state, vm.node, String(nic.bridge))) {
        throw new PveHttpError(500, `bridge '${nic.bridge}' does not exist`);
      }
    }
    pending[opt] = value;
    pendingDelete = pendingDelete.filter((k) => k !== opt);
  }
  if (!settlePending(vm, pending, pendingDelete)) return {};
  return isRunning(vm) ? hotplug(ctx, vm) : applyAll(vm);
}

/** vmconfig_apply_pending: NICs get their MAC and `type=veth` (parse_lxc_network / print_lxc_network). */
function applyAll(vm: SimVm): Record<string, string> {
  for (const [k, v] of Object.entries(vm.pending ?? {}))
    if (/^net\d+$/.test(k)) vm.pending![k] = normalizeNic(vm, k, v);
  applyPending(vm);
  return {};
}

/** vmconfig_hotplug_pending for a running container: errors "unable to hotplug <opt>: ...". */
function hotplug(ctx: OpsContext, vm: SimVm): Record<string, string> {
  const errors: Record<string, string> = {};
  const pending = vm.pending ?? {};
  for (const opt of Object.keys(pending).sort()) {
    if (/^net\d+$/.test(opt)) {
      const bridge = bridgeOf(vm, pending[opt]!);
      if (bridge !== undefined && !bridgeExists(ctx.state, vm.node, bridge)) {
        errors[opt] = `unable to hotplug ${opt}: bridge '${bridge}' does not exist\n`;
        continue;
      }
      setValue(vm, opt, normalizeNic(vm, opt, pending[opt]!));
      delete pending[opt];
    } else if (FAST_PLUG.has(opt) || CGROUP_LIVE.has(opt)) {
      setValue(vm, opt, pending[opt]!);
      delete pending[opt];
    }
  }
  const remaining: string[] = [];
  for (const opt of vm.pendingDelete ?? []) {
    if (FAST_PLUG.has(opt) || CGROUP_LIVE.has(opt) || /^net\d+$/.test(opt)) deleteValue(vm, opt);
    else remaining.push(opt);
  }
  vm.pendingDelete = remaining;
  if (!hasPending(vm)) {
    vm.pending = undefined;
    vm.pendingDelete = undefined;
  }
  return errors;
}

/** PUT /nodes/{node}/lxc/{vmid}/config (returns null). */
export async function updateLxcConfig(
  ctx: OpsContext,
  who: Principal,
  node: string,
  vmid: number,
  p: Params,
): Promise<null> {
  const set = optionsOf(p);
  const del = splitList(str(p, 'delete') ?? '');
  const revert = splitList(str(p, 'revert') ?? '');
  if (Object.keys(set).length === 0 && !str(p, 'delete') && !str(p, 'revert')) {
    throw new PveHttpError(500, 'no options specified');
  }
  requireVm(ctx.state, node, vmid, 'lxc');
  const release = await ctx.flocks.acquire(vmid, 'exclusive', ctx.tasks.lockWaitMs, 'lxc');
  try {
    const vm = requireVm(ctx.state, node, vmid, 'lxc');
    check(vm, set, del, revert, str(p, 'digest'));
    assertConfigWritable(ctx.state, vm, process.pid);
    const errors = updatePct(ctx, vm, set, del, revert);
    if (Object.keys(errors).length > 0) throw new PveParamError(errors);
  } finally {
    release();
  }
  ctx.tasks.record({ op: 'config', node, vmid, user: who.authid, detail: { keys: Object.keys(set), delete: del } });
  return null;
}
