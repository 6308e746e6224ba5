// Routes that change a guest's config, grow its disk and ping its agent (qemu-server API2/Qemu.pm update_vm_async,
// update_vm, resize_vm, API2/Qemu/Agent.pm; pve-container API2/LXC/Config.pm update_vm, API2/LXC.pm resize_vm;
// parameters as pve-docs apidata.js lists them). Spread into the route table by routes.ts.
import { agentPing } from './agent';
import { LXC_PUT_SCHEMA, QEMU_POST_SCHEMA, QEMU_PUT_SCHEMA } from './guest-config-schemas';
import { DRIVE_NAMES } from './guest-formats';
import { updateLxcConfig } from './lxc-config';
import { P, type ParamSchema } from './params';
import { updateQemuAsync, updateQemuSync } from './qemu-config';
import { resizeDisk } from './resize';
import type { Call, Route } from './routes';

const route = (method: Route['method'], path: string, def: Omit<Route, 'method' | 'path'>): Route => ({
  method,
  path: path.split('/').filter(Boolean),
  ...def,
});

const vmPerm = (priv: string) => (raw: Record<string, string>) => ({ acl: `/vms/${raw.vmid}`, priv });
const vmidOf = (c: Call): number => c.params.vmid as number;

const SIZE = { type: 'string', pattern: '\\+?\\d+(\\.\\d+)?[KMGT]?' } as const;
const DIGEST = { type: 'string', optional: true, maxLength: 40 } as const;
const MP_NAMES = ['rootfs', ...Array.from({ length: 256 }, (_, i) => `mp${i}`)];

const RESIZE_SCHEMAS: Record<'qemu' | 'lxc', ParamSchema> = {
  qemu: {
    node: P.node,
    vmid: P.vmid,
    skiplock: P.optBool,
    disk: { type: 'string', enum: DRIVE_NAMES },
    size: SIZE,
    digest: DIGEST,
  },
  lxc: { node: P.node, vmid: P.vmid, disk: { type: 'string', enum: MP_NAMES }, size: SIZE, digest: DIGEST },
};

export const GUEST_CONFIG_ROUTES: Route[] = [
  route('POST', 'nodes/{node}/qemu/{vmid}/config', {
    schema: QEMU_POST_SCHEMA,
    proxied: true,
    perm: vmPerm('VM.Config.Options'),
    handle: async (c) => ({ data: await updateQemuAsync(c.ctx, c.who, c.node.name, vmidOf(c), c.params) }),
  }),
  route('PUT', 'nodes/{node}/qemu/{vmid}/config', {
    schema: QEMU_PUT_SCHEMA,
    proxied: true,
    perm: vmPerm('VM.Config.Options'),
    handle: async (c) => ({ data: await updateQemuSync(c.ctx, c.who, c.node.name, vmidOf(c), c.params) }),
  }),
  route('PUT', 'nodes/{node}/lxc/{vmid}/config', {
    schema: LXC_PUT_SCHEMA,
    proxied: true,
    perm: vmPerm('VM.Config.Options'),
    handle: async (c) => ({ data: await updateLxcConfig(c.ctx, c.who, c.node.name, vmidOf(c), c.params) }),
  }),
  route('PUT', 'nodes/{node}/qemu/{vmid}/resize', {
    schema: RESIZE_SCHEMAS.qemu,
    proxied: true,
    perm: vmPerm('VM.Config.Disk'),
    handle: (c) => ({ data: resizeDisk(c.ctx, c.who, c.node.name, vmidOf(c), 'qemu', c.params) }),
  }),
  route('PUT', 'nodes/{node}/lxc/{vmid}/resize', {
    schema: RESIZE_SCHEMAS.lxc,
    proxied: true,
    perm: vmPerm('VM.Config.Disk'),
    handle: (c) => ({ data: resizeDisk(c.ctx, c.who, c.node.name, vmidOf(c), 'lxc', c.params) }),
  }),
  route('POST', 'nodes/{node}/qemu/{vmid}/agent/ping', {
    schema: { node: P.node, vmid: P.vmid },
    proxied: true,
    perm: vmPerm('VM.GuestAgent.Audit'),
    handle: async (c) => ({ data: await agentPing(c.ctx, c.node.name, vmidOf(c)) }),
  }),
];
