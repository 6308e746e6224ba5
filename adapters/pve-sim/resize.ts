// PUT /nodes/{node}/{qemu,lxc}/{vmid}/resize: grow a guest's disk (a `resize` task), as qemu-server's resize_vm and
// pve-container's resize_vm do it. The simulator's guests have one disk: scsi0 of a VM (a cloud-init drive is a
// CD-ROM), rootfs of a container.
import type { Principal } from './auth';
import { PveHttpError, TaskError } from './errors';
import { lockedText } from './guest-config';
import { currentValue } from './guest-options';
import { lxcConfig } from './lxc-views';
import { checkSkiplock, type OpsContext, reloadVm, requireVm } from './operations';
import { type Params, str } from './params';
import { qemuConfig } from './qemu-views';
import type { SimVm } from './types';

const UNITS: Record<string, number> = { K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** `[+]<number>[KMGT]` as bytes, and whether it is added to the current size. */
function parseSize(size: string): { add: boolean; bytes: number } {
  const m = /^(\+)?(\d+(?:\.\d+)?)(?:([KMGT])(?:iB)?)?$/.exec(size);
  if (!m) throw new TaskError('invalid size string');
  return { add: m[1] === '+', bytes: Number(m[2]) * (m[3] ? UNITS[m[3]]! : 1) };
}

/** The qemu-server checks in the worker under the config lock: the new size (the current one: nothing to do). */
function checkVm(vm: SimVm, disk: string, size: string, digest: string | undefined, skiplock: boolean): number {
  if (digest && digest !== qemuConfig(vm).digest) throw new TaskError('checksum mismatch (file change by other user?)');
  if (vm.lock && !skiplock) throw new TaskError(lockedText(vm));
  const drive = disk === 'scsi0' ? 'local-zfs' : currentValue(vm, disk);
  if (drive === undefined) throw new TaskError(`disk '${disk}' does not exist`);
  if (/(?:^|,)media=cdrom(?:,|$)/.test(drive)) throw new TaskError("you can't resize a cdrom");
  const { add, bytes } = parseSize(size);
  const newsize = Math.floor(add ? vm.maxdisk + bytes : bytes);
  if (newsize < vm.maxdisk) throw new TaskError('shrinking disks is not supported');
  return newsize;
}

/** pve-container's $load_and_check (before forking and again in the worker). */
function checkCt(vm: SimVm, disk: string, size: string, digest: string | undefined, err: (m: string) => Error): number {
  if (vm.lock) throw err(lockedText(vm));
  if (digest && digest !== lxcConfig(vm).digest) {
    throw err('detected modified configuration - file changed by other user? Try again.');
  }
  if (disk !== 'rootfs') {
    throw err(
      `format error\nmp: property is missing and it is not optional\nvolume: property is missing and it is not optional`,
    );
  }
  const { add, bytes } = parseSize(size);
  const newsize = Math.floor(add ? vm.maxdisk + bytes : bytes);
  if (newsize < vm.maxdisk) throw err('unable to shrink disk size');
  if (newsize === vm.maxdisk) throw err('disk is already at specified size');
  return newsize;
}

/** PUT .../resize: the UPID of the `resize` task. */
export function resizeDisk(
  ctx: OpsContext,
  who: Principal,
  node: string,
  vmid: number,
  type: SimVm['type'],
  p: Params,
): string {
  const disk = p.disk as string;
  const size = p.size as string;
  const digest = str(p, 'digest');
  const skiplock = type === 'qemu' ? checkSkiplock(p, who) : false;
  if (type === 'lxc')
    checkCt(requireVm(ctx.state, node, vmid, 'lxc'), disk, size, digest, (m) => new PveHttpError(500, m));
  return ctx.tasks.start({
    node,
    type: 'resize',
    vmid,
    user: who.authid,
    op: 'resize',
    detail: { disk, size },
    run: async (t) => {
      await t.flock(vmid, 'exclusive', type);
      const vm = reloadVm(ctx.state, node, vmid, type);
      const newsize =
        type === 'lxc'
          ? checkCt(vm, disk, size, digest, (m) => new TaskError(m))
          : checkVm(vm, disk, size, digest, skiplock);
      if (newsize === vm.maxdisk) return;
      await t.work();
      vm.maxdisk = newsize;
    },
  }).upid;
}
