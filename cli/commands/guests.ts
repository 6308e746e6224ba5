// migrate, drain, undrain: move a guest (or a selector's guests) to another node; empty a node for maintenance (one
// gated unit, one migrate per guest, the node kept in maintenance) and end that maintenance. Moving a production
// guest needs a second person's approval, not --force.
import { UsageError } from '../errors';
import { guestTarget, int, node, nodeTarget } from './args';
import { REQUEST_DETAILS, requestOptions, SELECTOR_DETAILS, submitRequest } from './request-send';
import type { Command } from './types';

export const migrateCommand: Command = {
  name: 'migrate',
  usage: '<cluster>/<vmid|@selector> <node> [--online|--offline] [--with-local-disks] [--dry-run] [--wait]',
  summary: 'Move a guest to another node (live when it runs; HA-managed guests through HA)',
  args: 2,
  options: {
    online: { type: 'boolean' },
    offline: { type: 'boolean' },
    'with-local-disks': { type: 'boolean' },
    ...requestOptions,
  },
  details: `A running VM moves live unless --offline; a running container is restarted on the target.
--with-local-disks also moves disks on local storage. The gate checks the target's free capacity; an HA-managed
guest is moved by HA.

${SELECTOR_DETAILS}

${REQUEST_DETAILS}`,
  run(ctx) {
    if (ctx.values.online && ctx.values.offline) throw new UsageError('--online and --offline exclude each other');
    const online = ctx.values.online ? { online: true } : ctx.values.offline ? { online: false } : {};
    return submitRequest(ctx, {
      action: 'migrate',
      target: guestTarget(ctx.positionals[0]),
      params: {
        target: node(ctx.positionals[1]),
        ...online,
        ...(ctx.values['with-local-disks'] ? { withLocalDisks: true } : {}),
      },
    });
  },
};

export const drainCommand: Command = {
  name: 'drain',
  usage: '<cluster>/<node> [--concurrency n] [--dry-run] [--wait]',
  summary: 'Empty a node for maintenance: every guest migrated elsewhere, the node kept in maintenance',
  args: 1,
  options: { concurrency: { type: 'string' }, ...requestOptions },
  details: `The core plans where each guest goes by free capacity and gates the drain as one unit: the mass-operation
brake and the production rule see every move, and the answer lists them. --concurrency caps how many move at
once. The node stays in maintenance (remediation moves nothing back) until 'overseer undrain'.

${REQUEST_DETAILS}`,
  run(ctx) {
    const concurrency = int(ctx.values, 'concurrency', 1);
    return submitRequest(ctx, {
      action: 'drain',
      target: nodeTarget(ctx.positionals[0]),
      params: concurrency !== undefined ? { concurrency } : {},
    });
  },
};

export const undrainCommand: Command = {
  name: 'undrain',
  usage: '<cluster>/<node> [--dry-run] [--wait]',
  summary: 'End the maintenance a drain set on a node',
  args: 1,
  options: { ...requestOptions },
  details: REQUEST_DETAILS,
  run: (ctx) => submitRequest(ctx, { action: 'undrain', target: nodeTarget(ctx.positionals[0]) }),
};
