// POST (a qmconfig task) and PUT (synchronous) /nodes/{node}/qemu/{vmid}/config, as qemu-server's $update_vm_api
// does it: checks before forking answer HTTP 400/500; the update writes every change to the [PENDING] section and
// then applies it: all of it on a stopped VM (vmconfig_apply_pending), on a running one only what needs no restart
// (vmconfig_hotplug_pending: the $fast_plug_option and cloud-init options, and NICs by hotplug); the rest waits for
// the next start. Disks other than a cloud-init drive and PCI passthrough are not modelled: such options answer 501.
import { createHash, randomBytes } from 'node:crypto';
import type { Principal } from './auth';
import { PveHttpError, PveParamError, TaskError } from './errors';
import { assertConfigWritable, lockedText } from './guest-config';
import { QEMU_CONFIG_OPTIONS } from './guest-config-schemas';
import { DRIVE_NAMES, hotplugFeatures } from './guest-formats';
import { bridgeOf, normalizeNic } from './guest-nics';
import { applyPending, currentValue, deleteValue, hasPending, settlePending, setValue } from './guest-options';
import { checkSkiplock, isRunning, type OpsContext, reloadVm, requireVm } from './operations';
import { type Params, splitList, str } from './params';
import { qemuConfig } from './qemu-views';
import { bridgeExists } from './sdn';
import { invalidKeyLines, SSH_KEY_ERROR, uriUnescape } from './ssh-keys';
import { uuidFor } from './state';
import type { SimVm } from './types';

/** qemu-server's $fast_plug_option and $confdesc_cloudinit: applied at once even while the VM runs. */
const FAST_PLUG = new Set([
  'description',
  'hookscript',
  'lock',
  'migrate_downtime',
  'migrate_speed',
  'name',
  'onboot',
  'protection',
  'shares',
  'startup',
  'tags',
  'vmstatestorage',
  'cicustom',
  'cipassword',
  'citype',
  'ciupgrade',
  'ciuser',
  'nameserver',
  'searchdomain',
  'sshkeys',
]);
const isFastPlug = (opt: string): boolean => FAST_PLUG.has(opt) || /^ipconfig\d+$/.test(opt);
const isDrive = (opt: string): boolean => DRIVE_NAMES.includes(opt) || /^unused\d+$/.test(opt);
/** A cloud-init drive on a storage: `<storage>:cloudinit[,options]`. */
const CLOUDINIT_RE = /^([a-z][a-z0-9\-_.]*[a-z0-9]):cloudinit(?:,|$)/i;

/** The parameters the update itself takes (not config options). */
const CONTROL = new Set(['node', 'vmid', 'digest', 'background_delay', 'skip_cloud_init', 'import-working-storage']);

export interface QemuUpdate {
  set: Record<string, string>;
  del: string[];
  revert: string[];
  skiplock: boolean;
  digest?: string | undefined;
  /** "update VM <vmid>: -key value ..." as the task log prints it. */
  line: string;
}

const asText = (v: string | number | boolean): string => (typeof v === 'boolean' ? (v ? '1' : '0') : String(v));

/** get_unique_tags: split, lowercased, sorted case-insensitively, without duplicates, joined with ';'. */
export const uniqueTags = (value: string): string =>
  [...new Set(splitList(value).map((t) => t.toLowerCase()))].sort().join(';');

/** The checks $update_vm_api makes before it locks or forks (400 per parameter, 500 for the rest). */
export function prepareQemuUpdate(ctx: OpsContext, who: Principal, node: string, vmid: number, p: Params): QemuUpdate {
  const given = Object.keys(p)
    .filter((k) => !CONTROL.has(k))
    .sort();
  const line = `update VM ${vmid}: ${given.map((k) => `-${k} ${k === 'cipassword' ? '<hidden>' : asText(p[k]!)}`).join(' ')}`;
  const skiplock = checkSkiplock(p, who);
  const set: Record<string, string> = {};
  for (const k of given) {
    if (['skiplock', 'delete', 'revert', 'force'].includes(k)) continue;
    set[k] = asText(p[k]!);
  }
  if (set.sshkeys !== undefined && invalidKeyLines(uriUnescape(set.sshkeys)).length > 0) {
    throw new PveHttpError(500, SSH_KEY_ERROR);
  }
  const deleteStr = str(p, 'delete');
  const revertStr = str(p, 'revert');
  if (!deleteStr && !revertStr && Object.keys(set).length === 0) throw new PveHttpError(500, 'no options specified');
  if (set.cdrom !== undefined) {
    set.ide2 = `${set.cdrom},media=cdrom`;
    delete set.cdrom;
  }
  const exists = (opt: string) => opt in QEMU_CONFIG_OPTIONS || opt === 'vmstate';
  const revert: string[] = [];
  for (const opt of splitList(revertStr ?? '')) {
    if (!exists(opt)) throw new PveParamError({ revert: `unknown option '${opt}'` });
    if (set[opt] !== undefined)
      throw new PveParamError({ delete: `you can't use '-${opt}' and -revert ${opt}' at the same time` });
    revert.push(opt);
  }
  const del: string[] = [];
  for (const raw of splitList(deleteStr ?? '')) {
    const opt = raw === 'cdrom' ? 'ide2' : raw;
    if (set[opt] !== undefined)
      throw new PveParamError({ delete: `you can't use '-${opt}' and -delete ${opt}' at the same time` });
    if (revert.includes(opt))
      throw new PveParamError({ revert: `you can't use '-delete ${opt}' and -revert ${opt}' at the same time` });
    if (!exists(opt)) throw new PveParamError({ delete: `unknown option '${opt}'` });
    del.push(opt);
  }
  const vm0 = requireVm(ctx.state, node, vmid);
  for (const [opt, value] of Object.entries(set)) {
    if (isDrive(opt)) {
      const ci = CLOUDINIT_RE.exec(value);
      if (!ci) throw new PveHttpError(501, `the simulator does not model disk changes: '${opt}' cannot be set`);
      if (
        ![
          'local-zfs',
          ...ctx.state.storages.filter((s) => s.content.includes('images')).map((s) => s.storage),
        ].includes(ci[1]!)
      ) {
        throw new PveHttpError(500, `storage '${ci[1]}' does not exist`);
      }
      set[opt] = `${ci[1]}:vm-${vmid}-cloudinit,media=cdrom`;
    } else if (/^hostpci\d+$/.test(opt)) {
      throw new PveHttpError(501, `the simulator does not model PCI passthrough: '${opt}' cannot be set`);
    } else if (/^net\d+$/.test(opt)) set[opt] = normalizeNic(vm0, opt, value);
    else if (opt === 'vmgenid' && value === '1') set[opt] = uuidFor(vmid + ctx.clock.now());
  }
  const update: QemuUpdate = { set, del, revert, skiplock, digest: str(p, 'digest'), line };
  loadAndCheck(vm0, update, (m) => new PveHttpError(500, m));
  return update;
}

/** $load_and_check_config: digest, lock (unless skiplock), and a balloon no larger than the memory. */
function loadAndCheck(vm: SimVm, u: QemuUpdate, err: (m: string) => Error): void {
  if (u.digest && u.digest !== qemuConfig(vm).digest) throw err('checksum mismatch (file change by other user?)');
  if (vm.lock && !u.skiplock) throw err(lockedText(vm));
  if (u.set.memory !== undefined || u.set.balloon !== undefined) {
    const memory = Number(
      (u.set.memory ?? vm.pending?.memory ?? currentValue(vm, 'memory') ?? '512')
        .replace(/^current=/, '')
        .split(',')[0],
    );
    const balloon = Number(u.set.balloon ?? vm.pending?.balloon ?? currentValue(vm, 'balloon') ?? 0);
    if (balloon && balloon > memory) throw err('balloon value too large (must be smaller than assigned memory)');
  }
}

/** encrypt_pw: a crypt(3) SHA-512 string for the cloud-init password (PVE never shows it back). */
const encryptPassword = (pw: string): string => {
  if (/^\$(?:[156]|2[ay])(\$.+){2}/.test(pw)) return pw;
  const salt = randomBytes(6).toString('base64url');
  return `$6$${salt}$${createHash('sha512')
    .update(salt + pw)
    .digest('base64url')}`;
};

/** The update under the config lock: pending first, then applied (stopped) or hot-plugged (running). */
function updateConfig(ctx: OpsContext, vm: SimVm, u: QemuUpdate, log: (line: string) => void): Record<string, string> {
  const pending: Record<string, string> = { ...vm.pending };
  let pendingDelete = [...(vm.pendingDelete ?? [])];
  for (const opt of u.revert) {
    delete pending[opt];
    pendingDelete = pendingDelete.filter((k) => k !== opt);
  }
  for (const opt of u.del) {
    if (currentValue(vm, opt) === undefined && pending[opt] === undefined) {
      log(`cannot delete '${opt}' - not set in current configuration!`);
      continue;
    }
    delete pending[opt];
    if (isDrive(opt) && vm.protection) throw new TaskError(`can't remove drive '${opt}' - protection mode enabled`);
    if (opt === 'tags') deleteValue(vm, 'tags');
    else if (!pendingDelete.includes(opt)) pendingDelete.push(opt);
  }
  for (const opt of Object.keys(u.set).sort()) {
    let value = u.set[opt]!;
    if (pending[opt] === value) continue;
    if (opt === 'tags') value = uniqueTags(value);
    if (opt === 'cipassword') {
      setValue(vm, opt, encryptPassword(value));
      continue;
    }
    if (opt === 'boot') {
      const order = /(?:^|,)order=([^,]*)/.exec(value)?.[1];
      for (const dev of order ? splitList(order) : []) {
        const there = currentValue(vm, dev) ?? pending[dev] ?? u.set[dev];
        if (there === undefined || u.del.includes(dev))
          throw new TaskError(`invalid bootorder: device '${dev}' does not exist'`);
      }
      if (order) value = `order=${splitList(order).join(';')}`;
    }
    pending[opt] = value;
    pendingDelete = pendingDelete.filter((k) => k !== opt);
  }
  if (!settlePending(vm, pending, pendingDelete)) return {};
  if (!isRunning(vm)) {
    applyPending(vm);
    return {};
  }
  return hotplugPending(ctx, vm);
}

/** vmconfig_hotplug_pending for the simulator's devices: errors by option ("hotplug problem - ..."). */
function hotplugPending(ctx: OpsContext, vm: SimVm): Record<string, string> {
  const errors: Record<string, string> = {};
  const features = hotplugFeatures(currentValue(vm, 'hotplug') ?? '1');
  const pending = vm.pending ?? {};
  const applied = (opt: string) => {
    setValue(vm, opt, pending[opt]!);
    delete pending[opt];
  };
  for (const opt of Object.keys(pending).sort()) {
    if (isFastPlug(opt)) applied(opt);
    else if (/^net\d+$/.test(opt) && features.has('network')) {
      const bridge = bridgeOf(vm, pending[opt]!);
      if (bridge !== undefined && !bridgeExists(ctx.state, vm.node, bridge)) {
        errors[opt] = `hotplug problem - bridge '${bridge}' does not exist\n`;
      } else applied(opt);
    } else if ((opt === 'memory' && features.has('memory')) || ['balloon', 'cpuunits', 'cpulimit'].includes(opt)) {
      applied(opt);
    }
  }
  const remaining: string[] = [];
  for (const opt of [...(vm.pendingDelete ?? [])].sort()) {
    const now =
      isFastPlug(opt) || (/^net\d+$/.test(opt) && features.has('network')) || ['cpuunits', 'cpulimit'].includes(opt);
    if (now) deleteValue(vm, opt);
    else remaining.push(opt);
  }
  vm.pendingDelete = remaining;
  if (!hasPending(vm)) {
    vm.pending = undefined;
    vm.pendingDelete = undefined;
  }
  return errors;
}

/** raise_param_exc inside a worker: the exception's text with its lines joined, as the task's exitstatus. */
const taskParamError = (errors: Record<string, string>): TaskError =>
  new TaskError(
    `400 Parameter verification failed.\n${Object.entries(errors)
      .map(([k, m]) => `${k}: ${m}`)
      .join('\n')}\n`
      .replace(/\n$/, '')
      .replace(/\n/g, ' '),
  );

/** PUT: the update under the config lock (lock_config waits up to 10 s), answered when done. */
export async function updateQemuSync(
  ctx: OpsContext,
  who: Principal,
  node: string,
  vmid: number,
  p: Params,
): Promise<null> {
  const u = prepareQemuUpdate(ctx, who, node, vmid, p);
  const release = await ctx.flocks.acquire(vmid, 'exclusive', ctx.tasks.lockWaitMs);
  try {
    const vm = requireVm(ctx.state, node, vmid);
    loadAndCheck(vm, u, (m) => new PveHttpError(500, m));
    assertConfigWritable(ctx.state, vm, process.pid);
    const errors = updateConfig(ctx, vm, u, () => undefined);
    if (Object.keys(errors).length > 0) throw new PveParamError(errors);
  } finally {
    release();
  }
  ctx.tasks.record({ op: 'config', node, vmid, user: who.authid, detail: { keys: Object.keys(u.set), delete: u.del } });
  return null;
}

/** POST: a qmconfig task doing the update under the config lock; `background_delay` waits for it. */
export async function updateQemuAsync(
  ctx: OpsContext,
  who: Principal,
  node: string,
  vmid: number,
  p: Params,
): Promise<string | null> {
  const u = prepareQemuUpdate(ctx, who, node, vmid, p);
  const task = ctx.tasks.start({
    node,
    type: 'qmconfig',
    vmid,
    user: who.authid,
    op: 'config',
    detail: { keys: Object.keys(u.set), delete: u.del },
    run: async (t) => {
      await t.flock(vmid, 'exclusive');
      const vm = reloadVm(ctx.state, node, vmid);
      loadAndCheck(vm, u, (m) => new TaskError(m));
      t.log(u.line);
      assertConfigWritable(ctx.state, vm, t.task.pid);
      await t.work();
      const errors = updateConfig(ctx, vm, u, (line) => t.log(line));
      if (Object.keys(errors).length > 0) throw taskParamError(errors);
    },
  });
  const delay = p.background_delay;
  if (typeof delay !== 'number') return task.upid;
  const end = ctx.clock.now() + delay * 1000;
  while (task.status === 'running' && ctx.clock.now() < end) await ctx.clock.sleep(1000, ctx.tasks.signal);
  if (task.status === 'running') return task.upid;
  if (task.exitstatus !== 'OK') throw new PveHttpError(500, `failed to update VM ${vmid}: ${task.exitstatus}`);
  return null;
}
