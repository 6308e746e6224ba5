// backups [<cluster>[/<vmid>]]: the backup jobs, then each guest's newest backup and its age, as the core read them
// from the platform. Storages that could not be read are named on stderr: their backups are unknown, not absent.
import type { BackupsReply } from '../../protocol';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { json, table, time } from '../format';
import type { Command } from './types';

/** `45m`, `5h 3m`, `3d 4h`. */
export function ageText(ms: number): string {
  const minutes = Math.max(0, Math.floor(ms / 60_000));
  if (minutes < 60) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h ${minutes % 60}m`;
  return `${Math.floor(hours / 24)}d ${hours % 24}h`;
}

/** `lab` or `lab/114`, or nothing: every cluster. */
function scope(value: string | undefined): { cluster?: string; vmid?: number } {
  if (value === undefined) return {};
  const match = /^([A-Za-z0-9][A-Za-z0-9_-]{0,63})(?:\/([0-9]{1,9}))?$/.exec(value);
  if (!match) throw new UsageError(`expected <cluster> or <cluster>/<vmid>, e.g. lab or lab/114 (got '${value}')`);
  return { cluster: match[1]!, ...(match[2] !== undefined ? { vmid: Number(match[2]) } : {}) };
}

const jobGuests = (j: BackupsReply['jobs'][number]): string =>
  j.all ? 'all' : j.pool !== undefined ? `pool ${j.pool}` : j.vmids.join(',');

export const backupsCommand: Command = {
  name: 'backups',
  usage: '[<cluster>[/<vmid>]]',
  summary: 'Backup jobs, and each guest’s newest backup and its age',
  args: 0,
  maxArgs: 1,
  details: `Every cluster, one cluster, or one guest. Ages are counted from now; 'never' means no backup was found.
A storage that could not be read is named on stderr: the backups on it are unknown, not absent.`,
  async run(ctx) {
    const reply = await ctx.client.get<BackupsReply>('/v1/backups', scope(ctx.positionals[0]));
    if (ctx.json) {
      ctx.out(json(reply));
      return EXIT.ok;
    }
    const now = (ctx.io.now ?? Date.now)();
    ctx.out(
      table(
        ['job', 'enabled', 'schedule', 'storage', 'guests'],
        reply.jobs.map((j) => [`${j.cluster}/${j.id}`, j.enabled ? 'yes' : 'no', j.schedule, j.storage, jobGuests(j)]),
      ),
    );
    ctx.out(
      `\n${table(
        ['guest', 'name', 'newest backup', 'age', 'storage', 'count'],
        reply.guests.map((g) => [
          `${g.cluster}/${g.vmid}`,
          g.name,
          g.newest ? time(g.newest.ctime * 1000) : undefined,
          g.newest ? ageText(now - g.newest.ctime * 1000) : 'never',
          g.newest?.storage,
          g.count,
        ]),
      )}`,
    );
    for (const f of reply.failedStorages) {
      ctx.err(`storage ${f.cluster}/${f.storage} could not be read: its backups are unknown\n`);
    }
    return EXIT.ok;
  },
};
