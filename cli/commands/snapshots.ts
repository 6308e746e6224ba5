// snapshot, snapshots, rollback, delsnapshot: take a snapshot, list a guest's snapshots, roll a guest back to one
// (destructive: production guests need --force and a second approval), delete one. The requests take a selector
// where a guest is named.
import type { SnapshotView } from '../../protocol';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { json, table, time } from '../format';
import { guestTarget, required, str, vmTarget } from './args';
import { REQUEST_DETAILS, requestOptions, SELECTOR_DETAILS, submitRequest } from './request-send';
import type { Command } from './types';

const DETAILS = `${SELECTOR_DETAILS}\n\n${REQUEST_DETAILS}`;

/** A snapshot name as the command line gives it (the core checks it against PVE's rules). */
function snapname(value: string | undefined): string {
  if (!value || value.length > 64 || /\s/.test(value)) {
    throw new UsageError(`expected a snapshot name, e.g. pre-upgrade (got '${value ?? ''}')`);
  }
  return value;
}

export const snapshotCommand: Command = {
  name: 'snapshot',
  usage: '<cluster>/<vmid|@selector> --name <snapname> [--description text] [--dry-run] [--wait]',
  summary: 'Snapshot a guest',
  args: 1,
  options: { name: { type: 'string' }, description: { type: 'string' }, force: { type: 'boolean' }, ...requestOptions },
  details: DETAILS,
  run(ctx) {
    const description = str(ctx.values, 'description');
    return submitRequest(ctx, {
      action: 'snapshot',
      target: guestTarget(ctx.positionals[0]),
      params: { snapname: required(ctx.values, 'name'), ...(description !== undefined ? { description } : {}) },
      force: !!ctx.values.force,
    });
  },
};

export const snapshotsCommand: Command = {
  name: 'snapshots',
  usage: '<cluster>/<vmid>',
  summary: 'List a guest’s snapshots: name, time, parent, description',
  args: 1,
  async run(ctx) {
    const [cluster, vmid] = vmTarget(ctx.positionals[0]).split('/');
    const page = await ctx.client.get<{ items: SnapshotView[]; total: number }>(`/v1/vms/${cluster}/${vmid}/snapshots`);
    if (ctx.json) {
      ctx.out(json(page));
      return EXIT.ok;
    }
    ctx.out(
      table(
        ['name', 'time', 'parent', 'description'],
        page.items.map((s) => [
          s.name,
          time(s.snaptime === undefined ? undefined : s.snaptime * 1000),
          s.parent,
          s.description?.replaceAll('\n', ' '),
        ]),
      ),
    );
    if (page.items.length === 0) ctx.err(`(${cluster}/${vmid} has no snapshots)\n`);
    return EXIT.ok;
  },
};

export const rollbackCommand: Command = {
  name: 'rollback',
  usage: '<cluster>/<vmid|@selector> <snapname> [--force] [--dry-run] [--wait]',
  summary: 'Roll a guest back to a snapshot (what changed since is lost; production guests need --force)',
  args: 2,
  options: { force: { type: 'boolean' }, ...requestOptions },
  details: `A rollback loses what changed since the snapshot: on a production guest it needs --force and a second
person's approval, and the gate may ask for a recent backup first.

${DETAILS}`,
  run: (ctx) =>
    submitRequest(ctx, {
      action: 'rollback',
      target: guestTarget(ctx.positionals[0]),
      params: { snapname: snapname(ctx.positionals[1]) },
      force: !!ctx.values.force,
    }),
};

export const delsnapshotCommand: Command = {
  name: 'delsnapshot',
  usage: '<cluster>/<vmid|@selector> <snapname> [--dry-run] [--wait]',
  summary: 'Delete a snapshot of a guest',
  args: 2,
  options: { ...requestOptions },
  details: DETAILS,
  run: (ctx) =>
    submitRequest(ctx, {
      action: 'delsnapshot',
      target: guestTarget(ctx.positionals[0]),
      params: { snapname: snapname(ctx.positionals[1]) },
    }),
};
