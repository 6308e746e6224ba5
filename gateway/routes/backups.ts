// GET /v1/backups: backup jobs and each guest's newest backup (vzdump on storage, Proxmox Backup Server), read from
// the platform now, for every cluster, one cluster, or one guest.
import { z } from 'zod';
import { querySchemas } from '../../protocol';
import { BadRequestError } from '../errors';
import { ClusterSchema, VmidStringSchema } from '../http-schemas';
import type { RouteTable } from '../route-table';
import type { RouteContext } from './context';

export const BackupQuerySchema = z.strictObject({
  cluster: ClusterSchema.optional().describe('Only this cluster'),
  vmid: VmidStringSchema.optional().describe('Only this guest (with cluster)'),
});

export function registerBackupRoutes(table: RouteTable, _ctx: RouteContext): void {
  table.add(
    {
      operationId: 'listBackups',
      method: 'get',
      path: '/v1/backups',
      role: 'observer',
      tag: 'backups',
      summary: 'Backup jobs, and each guest’s newest backup with its time',
      description:
        'Read from the platform now. `guests` lists every guest with its newest backup (`newest` absent: none ' +
        'found) and how many there are; `failedStorages` are storages that could not be read, whose backups are ' +
        'unknown rather than absent. `vmid` needs `cluster`.',
      query: BackupQuerySchema,
      success: { status: 200, description: 'Jobs, guests and unreadable storages', schema: querySchemas.backups.reply },
    },
    async ({ c, query, core }) => {
      if (query.vmid !== undefined && query.cluster === undefined) {
        throw new BadRequestError('vmid: needs cluster (a VMID is unique only within its cluster)', 'vmid', 'query');
      }
      return c.json(
        await core.query('backups', {
          ...(query.cluster !== undefined ? { cluster: query.cluster } : {}),
          ...(query.vmid !== undefined ? { vmid: Number(query.vmid) } : {}),
        }),
      );
    },
  );
}
