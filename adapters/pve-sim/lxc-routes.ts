// The container routes under /nodes/{node}/lxc, with pve-container's parameters (API2/LXC.pm, LXC/Status.pm,
// LXC/Snapshot.pm, LXC/Config.pm; pve-docs apidata.js). Spread into the route table by routes.ts.
import { PveParamError } from './errors';
import { ctClone } from './lxc-clone';
import { type CtPowerAction, ctDestroy, ctPower, ctSnapshot } from './lxc-operations';
import { lxcConfig, lxcList, lxcSnapshotConfig, lxcSnapshotList, lxcStatus } from './lxc-views';
import { requireVm } from './operations';
import { bool, formats, P, type ParamSchema, str } from './params';
import type { Call, Route } from './routes';

const route = (method: Route['method'], path: string, def: Omit<Route, 'method' | 'path'>): Route => ({
  method,
  path: path.split('/').filter(Boolean),
  ...def,
});

const vmPerm = (priv: string) => (raw: Record<string, string>) => ({ acl: `/vms/${raw.vmid}`, priv });

const CT_PATH = { node: P.node, vmid: P.vmid } as const satisfies ParamSchema;

const vmidOf = (c: Call): number => c.params.vmid as number;
/** The container's config on the called node, or "Configuration file 'nodes/<node>/lxc/<vmid>.conf' does not exist". */
const ctOf = (c: Call) => requireVm(c.ctx.state, c.node.name, vmidOf(c), 'lxc');

const POWER_SCHEMAS: Record<CtPowerAction, ParamSchema> = {
  start: { ...CT_PATH, skiplock: P.optBool, debug: P.optBool },
  stop: { ...CT_PATH, skiplock: P.optBool, 'overrule-shutdown': P.optBool },
  shutdown: { ...CT_PATH, timeout: P.optInt0, forceStop: P.optBool },
  reboot: { ...CT_PATH, timeout: P.optInt0 },
};

const powerRoutes = (Object.keys(POWER_SCHEMAS) as CtPowerAction[]).map((action) =>
  route('POST', `nodes/{node}/lxc/{vmid}/status/${action}`, {
    schema: POWER_SCHEMAS[action],
    proxied: true,
    perm: vmPerm('VM.PowerMgmt'),
    handle: (c) => ({ data: ctPower(c.ctx, c.who, c.node.name, vmidOf(c), action, c.params) }),
  }),
);

const subdirs = (names: string[]) => names.map((subdir) => ({ subdir }));

export const LXC_ROUTES: Route[] = [
  route('GET', 'nodes/{node}/lxc', {
    schema: { node: P.node },
    proxied: true,
    handle: (c) => ({ data: lxcList(c.ctx.state, c.node.name, c.ctx.clock.now()) }),
  }),
  route('GET', 'nodes/{node}/lxc/{vmid}', {
    schema: CT_PATH,
    proxied: true,
    handle: (c) => {
      ctOf(c);
      return {
        data: subdirs([
          'config',
          'pending',
          'status',
          'vncproxy',
          'termproxy',
          'vncwebsocket',
          'spiceproxy',
          'migrate',
          'clone',
          'rrd',
          'rrddata',
          'firewall',
          'snapshot',
          'resize',
          'interfaces',
        ]),
      };
    },
  }),
  route('GET', 'nodes/{node}/lxc/{vmid}/status', {
    schema: CT_PATH,
    proxied: true,
    handle: (c) => {
      ctOf(c);
      return { data: subdirs(['current', 'start', 'stop', 'shutdown', 'reboot', 'migrate']) };
    },
  }),
  route('GET', 'nodes/{node}/lxc/{vmid}/status/current', {
    schema: CT_PATH,
    proxied: true,
    handle: (c) => ({ data: lxcStatus(ctOf(c), c.ctx.clock.now(), c.ctx.state.version) }),
  }),
  ...powerRoutes,
  route('GET', 'nodes/{node}/lxc/{vmid}/config', {
    schema: { ...CT_PATH, current: P.optBool, snapshot: P.optSnapname },
    proxied: true,
    handle: (c) => {
      const snapshot = str(c.params, 'snapshot');
      if (snapshot && bool(c.params, 'current')) {
        const msg = "cannot use 'snapshot' parameter with 'current'";
        throw new PveParamError({ snapshot: msg, current: msg });
      }
      const ct = ctOf(c);
      return { data: snapshot ? lxcSnapshotConfig(ct, snapshot) : lxcConfig(ct, bool(c.params, 'current') ?? false) };
    },
  }),
  route('GET', 'nodes/{node}/lxc/{vmid}/snapshot', {
    schema: CT_PATH,
    proxied: true,
    handle: (c) => ({ data: lxcSnapshotList(ctOf(c)) }),
  }),
  route('POST', 'nodes/{node}/lxc/{vmid}/snapshot', {
    schema: { ...CT_PATH, snapname: P.snapname, description: P.optStr },
    proxied: true,
    perm: vmPerm('VM.Snapshot'),
    handle: (c) => ({ data: ctSnapshot(c.ctx, c.who, c.node.name, vmidOf(c), c.params) }),
  }),
  route('POST', 'nodes/{node}/lxc/{vmid}/clone', {
    schema: {
      ...CT_PATH,
      newid: P.vmid,
      hostname: { type: 'string', optional: true, format: formats.dnsName },
      description: P.optStr,
      pool: P.optPool,
      snapname: P.optSnapname,
      storage: P.optStorage,
      full: P.optBool,
      target: P.optNode,
      bwlimit: { type: 'number', min: 0, optional: true },
    },
    proxied: true,
    perm: vmPerm('VM.Clone'),
    handle: async (c) => ({ data: await ctClone(c.ctx, c.who, c.node.name, vmidOf(c), c.params) }),
  }),
  route('DELETE', 'nodes/{node}/lxc/{vmid}', {
    schema: { ...CT_PATH, force: P.optBool, purge: P.optBool, 'destroy-unreferenced-disks': P.optBool },
    proxied: true,
    perm: vmPerm('VM.Allocate'),
    handle: (c) => ({ data: ctDestroy(c.ctx, c.who, c.node.name, vmidOf(c), c.params) }),
  }),
];
