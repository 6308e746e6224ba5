// A guest's config and disks: configureGuest (a VM through POST .../qemu/{vmid}/config, which answers a qmconfig
// task; a container through the synchronous PUT .../lxc/{vmid}/config) and resizeDisk (PUT .../resize, a task).
// GuestSettings become PVE's options here: NICs as `netN` property strings, a VM's addresses as cloud-init
// `ipconfigN`, a container's in its `netN`, SSH keys URL-encoded as qemu-server's `sshkeys` requires.
import type { Proxmox } from 'proxmox-api';
import type { Log } from '../log';
import { MalformedAnswerError } from '../platform/errors';
import type { GuestNic, GuestSettings, GuestType, Platform, TaskRef } from '../platform/types';
import type { PveClient } from './client';
import { checkGuestType, checkNode, checkVmid, DNS_NAME_RE, guestPath, type PveParams } from './guest-paths';
import { readTaskRef } from './tasks';

export interface GuestConfigDeps {
  cluster: string;
  client: PveClient;
  log: Log;
}

export type GuestConfigOps = Pick<Platform, 'configureGuest' | 'resizeDisk'>;

interface Endpoint {
  $post(params?: PveParams): Promise<unknown>;
  $put(params?: PveParams): Promise<unknown>;
}
interface GuestConfigEndpoint {
  config: Endpoint;
  resize: Endpoint;
}

const endpointOf = (api: Proxmox.Api, node: string, type: GuestType, vmid: number): GuestConfigEndpoint => {
  const n = api.nodes.$(node);
  return (type === 'lxc' ? n.lxc.$(vmid) : n.qemu.$(vmid)) as unknown as GuestConfigEndpoint;
};

const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4_RE = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}$`);
const CIDR_V4_RE = new RegExp(`^${OCTET}(?:\\.${OCTET}){3}/(?:[89]|[12]\\d|3[0-2])$`);
/** pve-tag (pve-common JSONSchema.pm $PVE_TAG_RE). */
const TAG_RE = /^[a-z0-9_][a-z0-9_\-+.]*$/i;
/** mac-addr: unicast (I/G bit clear). */
const MAC_RE = /^[a-f0-9][02468ace](?::[a-f0-9]{2}){5}$/i;
/** pve-bridge-id. */
const BRIDGE_RE = /^[-_.\w]+$/;
const NIC_MODELS = new Set([
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
]);
/** qemu-server's MAX_NETS (pve-container has as many). */
const MAX_NICS = 32;

const fail = (what: string, value: unknown): never => {
  throw new RangeError(`invalid ${what} ${JSON.stringify(value)}`);
};

/** A NIC's own checks; its address is either `dhcp` or an IPv4 CIDR, a gateway only with a CIDR. */
function checkNic(nic: GuestNic): void {
  if (!Number.isInteger(nic?.index) || nic.index < 0 || nic.index >= MAX_NICS) fail('NIC index', nic?.index);
  if (typeof nic.bridge !== 'string' || !BRIDGE_RE.test(nic.bridge)) fail('bridge', nic.bridge);
  if (nic.tag !== undefined && (!Number.isInteger(nic.tag) || nic.tag < 1 || nic.tag > 4094)) fail('VLAN tag', nic.tag);
  if (nic.model !== undefined && !NIC_MODELS.has(nic.model)) fail('NIC model', nic.model);
  if (nic.macaddr !== undefined && !MAC_RE.test(nic.macaddr)) fail('MAC address', nic.macaddr);
  if (nic.ip !== undefined && nic.ip !== 'dhcp' && !CIDR_V4_RE.test(nic.ip))
    fail('IPv4 address (dhcp or a CIDR)', nic.ip);
  if (nic.gw !== undefined && (!IPV4_RE.test(nic.gw) || nic.ip === undefined || nic.ip === 'dhcp')) {
    fail('gateway (an IPv4 address, with a CIDR address)', nic.gw);
  }
  if (nic.name !== undefined && !/^[-_.\w]+$/.test(nic.name)) fail('interface name', nic.name);
}

/** A VM's `netN` (model[=mac],bridge=..,tag=..,firewall=..) and its cloud-init `ipconfigN`. */
function qemuNic(nic: GuestNic, params: PveParams): void {
  const model = nic.model ?? 'virtio';
  const parts = [nic.macaddr ? `${model}=${nic.macaddr}` : model, `bridge=${nic.bridge}`];
  if (nic.firewall !== undefined) parts.push(`firewall=${nic.firewall ? 1 : 0}`);
  if (nic.tag !== undefined) parts.push(`tag=${nic.tag}`);
  params[`net${nic.index}`] = parts.join(',');
  if (nic.ip !== undefined) params[`ipconfig${nic.index}`] = nic.gw ? `ip=${nic.ip},gw=${nic.gw}` : `ip=${nic.ip}`;
}

/** A container's `netN`: name, bridge, tag, firewall, MAC and its address. */
function lxcNic(nic: GuestNic, params: PveParams): void {
  const parts = [`name=${nic.name ?? `eth${nic.index}`}`, `bridge=${nic.bridge}`];
  if (nic.firewall !== undefined) parts.push(`firewall=${nic.firewall ? 1 : 0}`);
  if (nic.macaddr !== undefined) parts.push(`hwaddr=${nic.macaddr}`);
  if (nic.ip !== undefined) parts.push(`ip=${nic.ip}`);
  if (nic.gw !== undefined) parts.push(`gw=${nic.gw}`);
  if (nic.tag !== undefined) parts.push(`tag=${nic.tag}`);
  params[`net${nic.index}`] = parts.join(',');
}

/** The PVE options for `settings` on a guest of `type`. */
export function configParams(settings: GuestSettings, type: GuestType): PveParams {
  if (!settings || typeof settings !== 'object') throw new RangeError('no settings given');
  const s = settings;
  const params: PveParams = {};
  if (s.name !== undefined) {
    if (typeof s.name !== 'string' || !DNS_NAME_RE.test(s.name)) fail(type === 'lxc' ? 'hostname' : 'VM name', s.name);
    params[type === 'lxc' ? 'hostname' : 'name'] = s.name;
  }
  if (s.cores !== undefined && (!Number.isInteger(s.cores) || s.cores < 1)) fail('cores', s.cores);
  if (s.memory !== undefined && (!Number.isInteger(s.memory) || s.memory < 16)) fail('memory (MiB)', s.memory);
  params.cores = s.cores;
  params.memory = s.memory;
  if (s.tags !== undefined) {
    for (const t of s.tags) if (typeof t !== 'string' || !TAG_RE.test(t)) fail('tag', t);
    params.tags = s.tags.join(';');
  }
  if (s.description !== undefined) params.description = s.description;
  const indexes = new Set<number>();
  for (const nic of s.nics ?? []) {
    checkNic(nic);
    if (indexes.has(nic.index)) fail('NIC index (given twice)', nic.index);
    indexes.add(nic.index);
    if (type === 'lxc') lxcNic(nic, params);
    else qemuNic(nic, params);
  }
  const cloudInit = [s.ciuser, s.cipassword, s.sshKeys].some((v) => v !== undefined);
  if (type === 'lxc' && cloudInit)
    throw new RangeError('cloud-init settings (ciuser, cipassword, sshKeys) are for VMs');
  if (s.ciuser !== undefined) params.ciuser = s.ciuser;
  if (s.cipassword !== undefined) params.cipassword = s.cipassword;
  if (s.sshKeys !== undefined) {
    for (const k of s.sshKeys) if (typeof k !== 'string' || k.includes('\n') || k.trim() === '') fail('SSH key', k);
    // qemu-server: `sshkeys` has format 'urlencoded' and is unescaped before ssh-keygen checks each line.
    params.sshkeys = encodeURIComponent(s.sshKeys.join('\n'));
  }
  if (s.nameserver !== undefined) params.nameserver = s.nameserver;
  if (s.searchdomain !== undefined) params.searchdomain = s.searchdomain;
  if (s.delete !== undefined) {
    for (const d of s.delete) if (typeof d !== 'string' || !/^[a-z][a-z0-9_-]+$/i.test(d)) fail('option to delete', d);
    if (s.delete.length > 0) params.delete = s.delete.join(',');
  }
  if (s.digest !== undefined) {
    if (!/^[0-9a-f]{1,40}$/i.test(s.digest)) fail('digest', s.digest);
    params.digest = s.digest;
  }
  if (Object.values(params).every((v) => v === undefined)) throw new RangeError('no settings given');
  return params;
}

export function createGuestConfigOps({ cluster, client, log }: GuestConfigDeps): GuestConfigOps {
  return {
    async configureGuest(node: string, vmid: number, settings: GuestSettings, type?: GuestType) {
      checkNode(node);
      checkVmid(vmid);
      const t = checkGuestType(type);
      const params = configParams(settings, t);
      const keys = Object.keys(params).filter((k) => params[k] !== undefined);
      const path = `${guestPath(node, t, vmid)}/config`;
      if (t === 'lxc') {
        const data = await client.call(`PUT ${path}`, (api) => endpointOf(api, node, t, vmid).config.$put(params));
        if (data !== null && data !== undefined) {
          throw new MalformedAnswerError(`${cluster}: PUT ${path} answered ${JSON.stringify(data)}`, cluster, path);
        }
        log.info(`${cluster}: PUT ${path} ${keys.join(',')}`);
        return null;
      }
      const data = await client.call(`POST ${path}`, (api) => endpointOf(api, node, t, vmid).config.$post(params));
      const ref = readTaskRef(cluster, path, data);
      log.info(`${cluster}: POST ${path} ${keys.join(',')} → ${ref.upid}`);
      return ref;
    },

    async resizeDisk(node: string, vmid: number, disk: string, size: string, type?: GuestType): Promise<TaskRef> {
      checkNode(node);
      checkVmid(vmid);
      const t = checkGuestType(type);
      if (typeof disk !== 'string' || !/^[a-z]+\d*$/.test(disk)) fail('disk', disk);
      if (typeof size !== 'string' || !/^\+?\d+(\.\d+)?[KMGT]?$/.test(size))
        fail('size (+<n>[KMGT] or <n>[KMGT])', size);
      const path = `${guestPath(node, t, vmid)}/resize`;
      const data = await client.call(`PUT ${path}`, (api) =>
        endpointOf(api, node, t, vmid).resize.$put({ disk, size }),
      );
      const ref = readTaskRef(cluster, path, data);
      log.info(`${cluster}: PUT ${path} disk=${disk} size=${size} → ${ref.upid}`);
      return ref;
    },
  };
}
