// On a guest's page: its newest backup (when, where, how many are kept) and the backup jobs of its cluster that
// cover it, as the core reads them from the platform. A storage that could not be read makes "none" unknown.
import { api } from '../api/endpoints';
import type { VmView } from '../api/types';
import { ago } from '../format';
import { useLoad } from '../live/hooks';
import { When } from './common';

export function BackupFact({ vm }: { vm: Pick<VmView, 'cluster' | 'vmid' | 'pool'> }) {
  const loaded = useLoad((signal) => api.backups(vm.cluster, vm.vmid, signal), [`${vm.cluster}/${vm.vmid}`], {
    pollMs: 300_000,
  });
  const reply = loaded.data;
  if (!reply) return <span data-testid="vm-backup">{loaded.error ? 'unknown' : '…'}</span>;
  const guest = reply.guests.find((g) => g.cluster === vm.cluster && g.vmid === vm.vmid);
  const jobs = reply.jobs.filter(
    (j) =>
      j.cluster === vm.cluster && j.enabled && (j.all || j.vmids.includes(vm.vmid) || (j.pool && j.pool === vm.pool)),
  );
  const newest = guest?.newest;
  const unread = reply.failedStorages.filter((s) => s.cluster === vm.cluster).map((s) => s.storage);
  return (
    <span data-testid="vm-backup">
      {newest ? (
        <>
          <When at={newest.ctime * 1000} /> ({ago(newest.ctime * 1000)}) on {newest.storage}, {guest?.count} kept
        </>
      ) : unread.length > 0 ? (
        `unknown (${unread.join(', ')} unreadable)`
      ) : (
        'never'
      )}
      {' · '}
      {jobs.length > 0
        ? `jobs: ${jobs.map((j) => `${j.id}${j.schedule ? ` (${j.schedule})` : ''}`).join(', ')}`
        : 'no job'}
    </span>
  );
}
