// Routes for migration, snapshot rollback/delete, HA resources, storages and backups. Guest routes are served for
// both /nodes/{node}/qemu/{vmid}/... and /nodes/{node}/lxc/{vmid}/...; a VMID of the other type answers PVE's
// "Configuration file ... does not exist". Parameters as pve-docs apidata.js lists them. Spread into the route table
// by routes.ts.
import { BACKUP_ROUTES } from './backup-routes';
import type { GuestType } from './guest-config';
import { haResource, haResources } from './ha';
import { migrate, migratePrecondition } from './migrate';
import { formats, P, type ParamSchema, str } from './params';
import type { Call, Route } from './routes';
import { deleteSnapshot, rollback } from './snapshot-ops';

const route = (method: Route['method'], path: string, def: Omit<Route, 'method' | 'path'>): Route => ({
  method,
  path: path.split('/').filter(Boolean),
  ...def,
});

const vmPerm = (priv: string) => (raw: Record<string, string>) => ({ acl: `/vms/${raw.vmid}`, priv });

const GUEST_PATH = { node: P.node, vmid: P.vmid } as const satisfies ParamSchema;
const SNAP_PATH = { ...GUEST_PATH, snapname: P.snapname } as const satisfies ParamSchema;

const vmidOf = (c: Call): number => c.params.vmid as number;

/** POST .../migrate parameters of qemu-server and of pve-container. */
const MIGRATE_SCHEMAS: Record<GuestType, ParamSchema> = {
  qemu: {
    ...GUEST_PATH,
    target: P.node,
    online: P.optBool,
    force: P.optBool,
    migration_type: { type: 'string', optional: true, enum: ['secure', 'insecure'] },
    migration_network: { type: 'string', optional: true, format: formats.cidr },
    'with-local-disks': P.optBool,
    targetstorage: { type: 'string', optional: true, format: formats.storagePairList },
    bwlimit: P.optInt0,
    'with-conntrack-state': P.optBool,
  },
  lxc: {
    ...GUEST_PATH,
    target: P.node,
    'target-storage': { type: 'string', optional: true, format: formats.storagePairList },
    online: P.optBool,
    restart: P.optBool,
    timeout: P.optInt,
    bwlimit: { type: 'number', optional: true, min: 0 },
  },
};

function guestRoutes(type: GuestType): Route[] {
  const base = `nodes/{node}/${type}/{vmid}`;
  return [
    route('GET', `${base}/migrate`, {
      schema: { ...GUEST_PATH, target: P.optNode },
      proxied: true,
      perm: vmPerm('VM.Migrate'),
      handle: (c) => ({ data: migratePrecondition(c.ctx, c.node.name, vmidOf(c), type) }),
    }),
    route('POST', `${base}/migrate`, {
      schema: MIGRATE_SCHEMAS[type],
      proxied: true,
      perm: vmPerm('VM.Migrate'),
      handle: (c) => ({ data: migrate(c.ctx, c.who, c.node.name, vmidOf(c), type, c.params) }),
    }),
    route('GET', `${base}/snapshot/{snapname}`, {
      schema: SNAP_PATH,
      handle: () => ({ data: [{ cmd: 'rollback' }, { cmd: 'config' }] }),
    }),
    route('POST', `${base}/snapshot/{snapname}/rollback`, {
      schema: { ...SNAP_PATH, start: P.optBool },
      proxied: true,
      perm: vmPerm('VM.Snapshot'),
      handle: (c) => ({ data: rollback(c.ctx, c.who, c.node.name, vmidOf(c), type, c.params) }),
    }),
    route('DELETE', `${base}/snapshot/{snapname}`, {
      schema: { ...SNAP_PATH, force: P.optBool },
      proxied: true,
      perm: vmPerm('VM.Snapshot'),
      handle: (c) => ({ data: deleteSnapshot(c.ctx, c.who, c.node.name, vmidOf(c), type, c.params) }),
    }),
  ];
}

const HA_ROUTES: Route[] = [
  route('GET', 'cluster/ha/resources', {
    schema: { type: { type: 'string', optional: true, enum: ['ct', 'vm'] } },
    handle: (c) => ({ data: haResources(c.ctx.state, str(c.params, 'type')) }),
  }),
  route('GET', 'cluster/ha/resources/{sid}', {
    schema: { sid: { type: 'string', format: formats.haResourceOrVmId } },
    handle: (c) => ({ data: haResource(c.ctx.state, c.params.sid as string) }),
  }),
];

export const GUEST_OPS_ROUTES: Route[] = [
  ...guestRoutes('qemu'),
  ...guestRoutes('lxc'),
  ...HA_ROUTES,
  ...BACKUP_ROUTES,
];
