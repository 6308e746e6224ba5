// Routes for storages, their content, backup jobs and vzdump (pve-storage API2/Storage/*, pve-manager
// API2/Backup.pm and API2/VZDump.pm; parameters as pve-docs apidata.js lists them).
import { backupJob, backupJobs, nodeStorages, storageContent, storageIndex, storageRead } from './backup-views';
import { formats, int, listOf, P, type ParamSchema, type PveFormat, splitList, str } from './params';
import type { Route } from './routes';
import { vzdumpApi } from './vzdump';

const route = (method: Route['method'], path: string, def: Omit<Route, 'method' | 'path'>): Route => ({
  method,
  path: path.split('/').filter(Boolean),
  ...def,
});

const STORAGE_TYPES = [
  'btrfs',
  'cephfs',
  'cifs',
  'dir',
  'esxi',
  'iscsi',
  'iscsidirect',
  'lvm',
  'lvmthin',
  'nfs',
  'pbs',
  'rbd',
  'zfs',
  'zfspool',
] as const;

/**
 * vzdump's named formats the simulator takes as text (job options it does not act on): a format with PVE's name
 * that accepts any value.
 */
const asText = (name: string): PveFormat => ({ name, check: () => undefined });

// pve_verify_email_or_username: an e-mail address or a user name (EMAIL_RE / EMAIL_USER_RE of PVE::Tools).
const emailOrUsername: PveFormat = {
  name: 'email-or-username',
  check: (v) =>
    /^[\w+\-~.]+(@[a-zA-Z0-9-]+(\.[a-zA-Z0-9-]+)*)?$/.test(v)
      ? undefined
      : 'value does not look like a valid email address or user name\n',
};

const optString = (extra: Partial<{ maxLength: number; requires: string; pattern: string }> = {}) =>
  ({ type: 'string', optional: true, ...extra }) as const;

const VZDUMP_SCHEMA: ParamSchema = {
  node: P.optNode,
  all: P.optBool,
  bwlimit: P.optInt0,
  compress: { type: 'string', optional: true, enum: ['0', '1', 'gzip', 'lzo', 'zstd'] },
  dumpdir: optString(),
  exclude: { type: 'string', optional: true, format: formats.vmidList },
  'exclude-path': optString(),
  fleecing: { type: 'string', optional: true, format: asText('backup-fleecing') },
  ionice: { type: 'integer', optional: true, min: 0, max: 8 },
  'job-id': optString({ maxLength: 50, pattern: '\\S+' }),
  lockwait: P.optInt0,
  mailnotification: { type: 'string', optional: true, enum: ['always', 'failure'] },
  mailto: { type: 'string', optional: true, format: listOf(emailOrUsername) },
  maxfiles: { type: 'integer', optional: true, min: 1 },
  mode: { type: 'string', optional: true, enum: ['snapshot', 'suspend', 'stop'] },
  'notes-template': optString({ maxLength: 1024, requires: 'storage' }),
  'notification-mode': {
    type: 'string',
    optional: true,
    enum: ['auto', 'legacy-sendmail', 'notification-system'],
  },
  'pbs-change-detection-mode': { type: 'string', optional: true, enum: ['legacy', 'data', 'metadata'] },
  performance: { type: 'string', optional: true, format: asText('backup-performance') },
  pigz: P.optInt,
  pool: optString(),
  protected: { type: 'boolean', optional: true, requires: 'storage' },
  'prune-backups': { type: 'string', optional: true, format: asText('prune-backups') },
  quiet: P.optBool,
  remove: P.optBool,
  script: optString(),
  stdexcludes: P.optBool,
  stdout: P.optBool,
  stop: P.optBool,
  stopwait: P.optInt0,
  storage: P.optStorage,
  tmpdir: optString(),
  vmid: { type: 'string', optional: true, format: formats.vmidList },
  zstd: P.optInt,
};

export const BACKUP_ROUTES: Route[] = [
  route('GET', 'storage', {
    schema: { type: { type: 'string', optional: true, enum: STORAGE_TYPES } },
    handle: (c) => ({ data: storageIndex(c.ctx.state, str(c.params, 'type')) }),
  }),
  route('GET', 'storage/{storage}', {
    schema: { storage: { type: 'string', format: formats.storageId } },
    handle: (c) => ({ data: storageRead(c.ctx.state, c.params.storage as string) }),
  }),
  route('GET', 'nodes/{node}/storage', {
    schema: {
      node: P.node,
      content: { type: 'string', optional: true, format: formats.storageContentList },
      enabled: P.optBool,
      format: P.optBool,
      storage: P.optStorage,
      target: P.optNode,
    },
    proxied: true,
    handle: (c) => {
      const content = str(c.params, 'content');
      return {
        data: nodeStorages(c.ctx.state, c.node.name, c.ctx.clock.now(), {
          storage: str(c.params, 'storage'),
          content: content === undefined ? undefined : splitList(content),
          target: str(c.params, 'target'),
        }),
      };
    },
  }),
  route('GET', 'nodes/{node}/storage/{storage}/content', {
    schema: {
      node: P.node,
      storage: { type: 'string', format: formats.storageId },
      content: { type: 'string', optional: true, format: formats.storageContent },
      vmid: P.optVmid,
    },
    proxied: true,
    handle: (c) => ({
      data: storageContent(
        c.ctx.state,
        c.node.name,
        c.params.storage as string,
        str(c.params, 'content'),
        int(c.params, 'vmid'),
      ),
    }),
  }),
  route('GET', 'cluster/backup', {
    schema: {},
    handle: (c) => ({ data: backupJobs(c.ctx.state, c.ctx.clock.now()) }),
  }),
  route('GET', 'cluster/backup/{id}', {
    schema: { id: { type: 'string', maxLength: 50, pattern: '\\S+' } },
    handle: (c) => ({ data: backupJob(c.ctx.state, c.params.id as string) }),
  }),
  route('POST', 'nodes/{node}/vzdump', {
    schema: VZDUMP_SCHEMA,
    proxied: true,
    handle: (c) => ({ data: vzdumpApi(c.ctx, c.who, c.node.name, c.params) }),
  }),
];
