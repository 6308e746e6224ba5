// Where a guest's calls go (/nodes/{node}/qemu/{vmid}/... or /nodes/{node}/lxc/{vmid}/...) and the checks every
// argument passes before anything is sent.
import type { Proxmox } from 'proxmox-api';
import { GUEST_TYPES, type GuestType } from '../../machines/types';
import type { TaskRef } from '../platform/types';
import { parseUpid } from './upid';
import { MAX_VMID, NODE_NAME_RE } from './wire';

/** A request's parameters as sent: PVE takes booleans only as 0/1, so none are `boolean` here. */
export type PveParams = Record<string, string | number | undefined>;

interface Post {
  $post(params?: PveParams): Promise<unknown>;
}

/** The calls Overseer makes below /nodes/{node}/{qemu|lxc}/{vmid} (the same paths for both types). */
export interface GuestEndpoint {
  $delete(params?: PveParams): Promise<unknown>;
  clone: Post;
  migrate: Post;
  status: {
    current: { $get(): Promise<unknown> };
    start: Post;
    stop: Post;
    shutdown: Post;
    reboot: Post;
    suspend: Post;
    resume: Post;
  };
  snapshot: {
    $get(): Promise<unknown>;
    $post(params: PveParams): Promise<unknown>;
    $(snapname: string): { $delete(params?: PveParams): Promise<unknown>; rollback: Post };
  };
}

/** The guest's endpoint in proxmox-api for its type. */
export function guestApi(api: Proxmox.Api, node: string, type: GuestType, vmid: number): GuestEndpoint {
  const nodeApi = api.nodes.$(node);
  const endpoint = type === 'lxc' ? nodeApi.lxc.$(vmid) : nodeApi.qemu.$(vmid);
  // proxmox-api's generated types describe each type's parameters separately (and as booleans); the paths and
  // methods are the same, and every parameter passed here is checked against PVE's schema by the caller.
  return endpoint as unknown as GuestEndpoint;
}

/** `/nodes/{node}/{type}/{vmid}` (for messages and errors). */
export const guestPath = (node: string, type: GuestType, vmid: number): string => `/nodes/${node}/${type}/${vmid}`;

/** A PVE boolean as sent: 1 or 0 (PVE refuses true/yes/on); undefined stays unsent. */
export function pveBool(value: boolean | undefined): 0 | 1 | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw new RangeError(`invalid boolean ${JSON.stringify(value)}`);
  return value ? 1 : 0;
}

export function checkNode(node: string, what = 'node'): string {
  if (typeof node !== 'string' || !NODE_NAME_RE.test(node)) {
    throw new RangeError(`invalid ${what} name ${JSON.stringify(node)}`);
  }
  return node;
}

export function checkVmid(vmid: number, what = 'vmid'): number {
  if (!Number.isInteger(vmid) || vmid < 1 || vmid > MAX_VMID) throw new RangeError(`invalid ${what} ${vmid}`);
  return vmid;
}

/** The guest type (default qemu). */
export function checkGuestType(type: GuestType | undefined): GuestType {
  if (type === undefined) return 'qemu';
  if (!(GUEST_TYPES as readonly unknown[]).includes(type))
    throw new RangeError(`invalid guest type ${JSON.stringify(type)}`);
  return type;
}

/**
 * pve-snapshot-name: format pve-configid (`[a-z][a-z0-9_-]+`, case-insensitive) and at most 40 characters
 * (pve-common src/PVE/JSONSchema.pm).
 */
export const SNAPNAME_RE = /^[a-z][a-z0-9_-]{1,39}$/i;

/**
 * Names a new snapshot may not take: qemu-server src/PVE/API2/Qemu.pm snapshot ("unable to use snapshot name
 * 'current' (reserved name)", also 'pending'); pve-container src/PVE/API2/LXC/Snapshot.pm ('current', 'vzdump').
 */
const RESERVED_SNAPNAMES: Record<GuestType, readonly string[]> = {
  qemu: ['current', 'pending'],
  lxc: ['current', 'vzdump'],
};

export function checkSnapname(snapname: string): string {
  if (typeof snapname !== 'string' || !SNAPNAME_RE.test(snapname)) {
    throw new RangeError(`invalid snapshot name ${JSON.stringify(snapname)} (letters, digits, - and _, 2 to 40)`);
  }
  return snapname;
}

/** A name for a new snapshot of a guest of `type`. */
export function checkNewSnapname(snapname: string, type: GuestType): string {
  checkSnapname(snapname);
  if (RESERVED_SNAPNAMES[type].includes(snapname)) {
    throw new RangeError(`snapshot name '${snapname}' is reserved`);
  }
  return snapname;
}

/** dns-name, as PVE checks a VM's `name` and a container's `hostname` (labels of [a-zA-Z0-9-], no length limit). */
export const DNS_NAME_RE = /^([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?\.)*[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;

export function checkTask(task: TaskRef): TaskRef {
  const parts = parseUpid(task?.upid);
  if (!parts) throw new RangeError(`invalid UPID ${JSON.stringify(task?.upid)}`);
  checkNode(task.node);
  return task;
}
