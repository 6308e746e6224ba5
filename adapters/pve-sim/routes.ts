// The API routes under /api2/json: path pattern, parameter schema, permission, handler.
import type { Auth, Principal } from './auth';
import { PveHttpError, PveParamError } from './errors';
import type { SimFaults } from './faults';
import { GUEST_CONFIG_ROUTES } from './guest-config-routes';
import { GUEST_OPS_ROUTES } from './guest-ops-routes';
import { LXC_ROUTES } from './lxc-routes';
import * as ops from './operations';
import { bool, formats, int, P, type ParamSchema, type Params, str } from './params';
import { POOL_ROUTES } from './pool-routes';
import { POOL_WRITE_ROUTES } from './pools-write';
import { SDN_ROUTES } from './sdn-routes';
import { lowestFreeVmid } from './state';
import type { SimNode } from './types';
import { decodeUpid } from './upid';
import * as views from './views';

export interface RouteContext extends ops.OpsContext {
  faults: SimFaults;
  auth: Auth;
}

export interface Reply {
  data: unknown;
  total?: number | undefined;
}

export interface Call {
  ctx: RouteContext;
  who: Principal;
  params: Params;
  /** The node of /nodes/{node}/... routes (checked to exist and be online). */
  node: SimNode;
}

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Segments after /api2/json; `{name}` captures. */
  path: string[];
  schema: ParamSchema;
  /** No authentication (POST /access/ticket). */
  open?: boolean | undefined;
  /** Proxied to `{node}` in PVE: unknown node 500, offline node 596. */
  proxied?: boolean | undefined;
  /** ACL path and privilege checked for audit-only principals (403). */
  perm?: ((raw: Record<string, string>) => { acl: string; priv: string }) | undefined;
  handle(call: Call): Reply | Promise<Reply>;
}

const route = (method: Route['method'], path: string, def: Omit<Route, 'method' | 'path'>): Route => ({
  method,
  path: path.split('/').filter(Boolean),
  ...def,
});

const vmPerm = (priv: string) => (raw: Record<string, string>) => ({ acl: `/vms/${raw.vmid}`, priv });

const VM_PATH = { node: P.node, vmid: P.vmid } as const satisfies ParamSchema;

const POWER_SCHEMAS: Record<ops.PowerAction, ParamSchema> = {
  start: {
    ...VM_PATH,
    'force-cpu': P.optStr,
    machine: P.optStr,
    migratedfrom: P.optNode,
    migration_network: { type: 'string', optional: true, format: formats.cidr },
    migration_type: { type: 'string', optional: true, enum: ['secure', 'insecure'] },
    'nets-host-mtu': { type: 'string', optional: true, pattern: 'net\\d+=\\d+(,net\\d+=\\d+)*' },
    skiplock: P.optBool,
    stateuri: { type: 'string', optional: true, maxLength: 128 },
    targetstorage: { type: 'string', optional: true, format: formats.storagePairList },
    timeout: P.optInt0,
    'with-conntrack-state': P.optBool,
  },
  stop: {
    ...VM_PATH,
    keepActive: P.optBool,
    migratedfrom: P.optNode,
    'overrule-shutdown': P.optBool,
    skiplock: P.optBool,
    timeout: P.optInt0,
  },
  shutdown: { ...VM_PATH, forceStop: P.optBool, keepActive: P.optBool, skiplock: P.optBool, timeout: P.optInt0 },
  reboot: { ...VM_PATH, timeout: P.optInt0 },
  suspend: {
    ...VM_PATH,
    skiplock: P.optBool,
    statestorage: { ...P.optStorage, requires: 'todisk' },
    todisk: P.optBool,
  },
  resume: { ...VM_PATH, nocheck: P.optBool, skiplock: P.optBool },
};

const vmOf = (c: Call): number => c.params.vmid as number;

const powerRoutes = (Object.keys(POWER_SCHEMAS) as ops.PowerAction[]).map((action) =>
  route('POST', `nodes/{node}/qemu/{vmid}/status/${action}`, {
    schema: POWER_SCHEMAS[action],
    proxied: true,
    perm: vmPerm('VM.PowerMgmt'),
    handle: (c) => ({ data: ops.power(c.ctx, c.who, c.node.name, vmOf(c), action, c.params) }),
  }),
);

export const ROUTES: Route[] = [
  route('GET', 'version', { schema: {}, handle: (c) => ({ data: views.version(c.ctx.state) }) }),
  route('GET', 'access/ticket', { schema: {}, open: true, handle: () => ({ data: null }) }),
  route('POST', 'access/ticket', {
    schema: {
      username: { type: 'string', maxLength: 64 },
      password: { type: 'string' },
      realm: { type: 'string', optional: true, format: formats.realm, maxLength: 32 },
      otp: P.optStr,
      path: { type: 'string', optional: true, maxLength: 64, requires: 'privs' },
      privs: { type: 'string', optional: true, maxLength: 64, requires: 'path' },
      'new-format': P.optBool,
      'tfa-challenge': P.optStr,
    },
    open: true,
    handle: (c) => ({
      data: c.ctx.auth.login(c.params.username as string, c.params.password as string, str(c.params, 'realm')),
    }),
  }),
  route('GET', 'cluster/resources', {
    schema: { type: { type: 'string', optional: true, enum: ['vm', 'storage', 'node', 'sdn'] } },
    handle: (c) => ({
      data: c.ctx.faults.takeEmptyResources()
        ? []
        : views.clusterResources(c.ctx.state, c.ctx.clock.now(), str(c.params, 'type')),
    }),
  }),
  route('GET', 'cluster/status', {
    schema: {},
    perm: () => ({ acl: '/', priv: 'Sys.Audit' }),
    handle: (c) => ({ data: views.clusterStatus(c.ctx.state) }),
  }),
  route('GET', 'cluster/tasks', {
    schema: {},
    handle: (c) => ({ data: views.clusterTasks(c.ctx.state.tasksByNode) }),
  }),
  route('GET', 'cluster/nextid', {
    schema: { vmid: P.optVmid },
    handle: (c) => {
      const vmid = int(c.params, 'vmid');
      if (vmid !== undefined) {
        if (c.ctx.state.vms.has(vmid)) throw new PveParamError({ vmid: `VM ${vmid} already exists` });
        return { data: String(vmid) };
      }
      return { data: String(lowestFreeVmid(c.ctx.state)) };
    },
  }),
  route('GET', 'nodes', { schema: {}, handle: (c) => ({ data: views.nodesIndex(c.ctx.state, c.ctx.clock.now()) }) }),
  route('GET', 'nodes/{node}/status', {
    schema: { node: P.node },
    proxied: true,
    handle: (c) => ({ data: views.nodeStatus(c.ctx.state, c.node, c.ctx.clock.now()) }),
  }),
  route('GET', 'nodes/{node}/qemu', {
    schema: { node: P.node, full: P.optBool },
    proxied: true,
    handle: (c) => ({
      data: views.qemuList(c.ctx.state, c.node.name, c.ctx.clock.now(), bool(c.params, 'full') ?? false),
    }),
  }),
  route('GET', 'nodes/{node}/qemu/{vmid}/status', {
    schema: VM_PATH,
    proxied: true,
    handle: (c) => {
      ops.requireVm(c.ctx.state, c.node.name, vmOf(c));
      return {
        data: ['current', 'start', 'stop', 'reset', 'shutdown', 'reboot', 'suspend', 'resume'].map((subdir) => ({
          subdir,
        })),
      };
    },
  }),
  route('GET', 'nodes/{node}/qemu/{vmid}/status/current', {
    schema: VM_PATH,
    proxied: true,
    handle: (c) => ({
      data: views.qemuStatus(ops.requireVm(c.ctx.state, c.node.name, vmOf(c)), c.ctx.clock.now(), c.ctx.state.version),
    }),
  }),
  route('GET', 'nodes/{node}/qemu/{vmid}/config', {
    schema: { ...VM_PATH, current: P.optBool, snapshot: P.optSnapname },
    proxied: true,
    handle: (c) => {
      const vm = ops.requireVm(c.ctx.state, c.node.name, vmOf(c));
      const snap = str(c.params, 'snapshot');
      if (snap !== undefined) {
        const s = vm.snapshots.find((x) => x.name === snap);
        if (!s) throw new PveHttpError(500, `snapshot '${snap}' does not exist`);
        const { lock: _lock, digest, ...cfg } = views.qemuConfig(vm);
        return { data: { ...cfg, digest, snaptime: s.snaptime, description: s.description } };
      }
      return { data: views.qemuConfig(vm, bool(c.params, 'current') ?? false) };
    },
  }),
  ...powerRoutes,
  route('POST', 'nodes/{node}/qemu/{vmid}/clone', {
    schema: {
      ...VM_PATH,
      newid: P.vmid,
      name: { type: 'string', optional: true, format: formats.dnsName },
      description: P.optStr,
      full: P.optBool,
      target: { type: 'string', optional: true, format: formats.node },
      pool: P.optPool,
      snapname: P.optSnapname,
      storage: P.optStorage,
      format: { type: 'string', optional: true, enum: ['raw', 'qcow2', 'vmdk'] },
      bwlimit: P.optInt0,
    },
    proxied: true,
    perm: vmPerm('VM.Clone'),
    handle: async (c) => ({ data: await ops.clone(c.ctx, c.who, c.node.name, vmOf(c), c.params) }),
  }),
  route('GET', 'nodes/{node}/qemu/{vmid}/snapshot', {
    schema: VM_PATH,
    proxied: true,
    handle: (c) => ({ data: views.snapshotList(ops.requireVm(c.ctx.state, c.node.name, vmOf(c))) }),
  }),
  route('POST', 'nodes/{node}/qemu/{vmid}/snapshot', {
    schema: {
      ...VM_PATH,
      snapname: P.snapname,
      description: P.optStr,
      vmstate: P.optBool,
    },
    proxied: true,
    perm: vmPerm('VM.Snapshot'),
    handle: (c) => ({ data: ops.snapshot(c.ctx, c.who, c.node.name, vmOf(c), c.params) }),
  }),
  route('DELETE', 'nodes/{node}/qemu/{vmid}', {
    schema: { ...VM_PATH, purge: P.optBool, 'destroy-unreferenced-disks': P.optBool, skiplock: P.optBool },
    proxied: true,
    perm: vmPerm('VM.Allocate'),
    handle: (c) => ({ data: ops.destroy(c.ctx, c.who, c.node.name, vmOf(c), c.params) }),
  }),
  route('GET', 'nodes/{node}/tasks', {
    schema: {
      node: P.node,
      vmid: P.optVmid,
      typefilter: P.optStr,
      userfilter: P.optStr,
      statusfilter: { type: 'string', optional: true, format: formats.taskStatusTypeList },
      since: P.optInt,
      until: P.optInt,
      errors: P.optBool,
      source: { type: 'string', optional: true, enum: ['archive', 'active', 'all'] },
      start: P.optInt0,
      limit: P.optInt0,
    },
    proxied: true,
    handle: (c) => {
      const p = c.params;
      return views.taskList(c.ctx.state.tasksByNode.get(c.node.name) ?? [], {
        vmid: int(p, 'vmid'),
        typefilter: str(p, 'typefilter'),
        userfilter: str(p, 'userfilter'),
        statusfilter: str(p, 'statusfilter'),
        since: int(p, 'since'),
        until: int(p, 'until'),
        errors: bool(p, 'errors'),
        source: str(p, 'source'),
        start: int(p, 'start'),
        limit: int(p, 'limit'),
      });
    },
  }),
  // pve-manager Tasks.pm upid_index: no proxyto, and the code only lists the two children.
  route('GET', 'nodes/{node}/tasks/{upid}', {
    schema: { node: P.node, upid: { type: 'string' } },
    handle: () => ({ data: [{ name: 'log' }, { name: 'status' }] }),
  }),
  route('GET', 'nodes/{node}/tasks/{upid}/status', {
    schema: { node: P.node, upid: { type: 'string' } },
    proxied: true,
    handle: (c) => ({ data: views.taskStatus(findTask(c)) }),
  }),
  route('GET', 'nodes/{node}/tasks/{upid}/log', {
    schema: { node: P.node, upid: { type: 'string' }, start: P.optInt0, limit: P.optInt0, download: P.optBool },
    proxied: true,
    handle: (c) => views.taskLog(findTask(c), int(c.params, 'start'), int(c.params, 'limit')),
  }),
  ...LXC_ROUTES,
  ...GUEST_OPS_ROUTES,
  ...POOL_ROUTES,
  ...POOL_WRITE_ROUTES,
  ...SDN_ROUTES,
  ...GUEST_CONFIG_ROUTES,
];

function findTask(c: Call) {
  const upid = c.params.upid as string;
  if (!decodeUpid(upid)) throw new PveParamError({ upid: 'unable to parse worker upid' });
  const task = c.ctx.state.tasks.get(upid);
  if (!task || task.node !== c.node.name) throw new PveParamError({ upid: 'no such task' });
  return task;
}

export interface RouteMatch {
  route: Route;
  captures: Record<string, string>;
}

/** Finds the route for a method and a path below /api2/json (segments already URI-decoded). */
export function matchRoute(method: string, segments: string[]): RouteMatch | undefined {
  for (const r of ROUTES) {
    if (r.method !== method || r.path.length !== segments.length) continue;
    const captures: Record<string, string> = {};
    let ok = true;
    for (let i = 0; i < r.path.length; i++) {
      const pat = r.path[i]!;
      const seg = segments[i]!;
      if (pat.startsWith('{')) captures[pat.slice(1, -1)] = seg;
      else if (pat !== seg) {
        ok = false;
        break;
      }
    }
    if (ok) return { route: r, captures };
  }
  return undefined;
}
