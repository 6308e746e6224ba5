// Reads the core makes on the platform for a person: a guest's snapshots, and the backup jobs and each guest's
// newest backup. They go to the platform now (the inventory does not hold them); a platform that cannot answer is an
// error naming the cluster, never an empty list.
import type { BackupListing, Platform } from '../adapters/platform/types';
import { guestTypeOf, vmKey } from '../machines/types';
import type { BackupsReply, QueryHandlers } from '../protocol';
import { InputRefusedError } from '../protocol';
import type { SystemView } from './system-view';

export interface GuestQueryDeps {
  overseer: { view: SystemView };
  platforms: ReadonlyMap<string, Platform>;
}

const message = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The platform read failed: the answer is an error, never "none". */
export class PlatformReadError extends Error {
  override name = 'PlatformReadError';
}

/** The newest archive of each guest in a listing, and how many it has. */
export function newestBackups(
  listing: BackupListing,
): Map<number, { newest: BackupListing['volumes'][number]; count: number }> {
  const byGuest = new Map<number, { newest: BackupListing['volumes'][number]; count: number }>();
  for (const volume of listing.volumes) {
    const seen = byGuest.get(volume.vmid);
    if (!seen) byGuest.set(volume.vmid, { newest: volume, count: 1 });
    else
      byGuest.set(volume.vmid, {
        newest: volume.ctime > seen.newest.ctime ? volume : seen.newest,
        count: seen.count + 1,
      });
  }
  return byGuest;
}

export function guestQueries(deps: GuestQueryDeps): Pick<QueryHandlers, 'snapshots' | 'backups'> {
  const { view } = deps.overseer;
  const platformOf = (cluster: string): Platform => {
    const platform = deps.platforms.get(cluster);
    if (!platform) throw new InputRefusedError(`no cluster '${cluster}' is configured`, 'cluster');
    return platform;
  };
  return {
    snapshots: async ({ cluster, vmid }) => {
      const platform = platformOf(cluster);
      const guest = view.vms.get(vmKey(cluster, vmid));
      if (!guest) throw new InputRefusedError(`no guest ${cluster}/${vmid} in the inventory`, 'vmid');
      try {
        const items = await platform.listSnapshots(guest.node, vmid, guestTypeOf(guest));
        return { items };
      } catch (error) {
        throw new PlatformReadError(`the snapshots of ${cluster}/${vmid} could not be read: ${message(error)}`);
      }
    },
    backups: async ({ cluster, vmid }) => {
      if (vmid !== undefined && cluster === undefined) {
        throw new InputRefusedError('a vmid needs its cluster', 'cluster');
      }
      const clusters = cluster !== undefined ? [cluster] : [...deps.platforms.keys()].sort();
      const reply: BackupsReply = { jobs: [], guests: [], failedStorages: [] };
      for (const name of clusters) {
        let listing: BackupListing;
        try {
          listing = await platformOf(name).listBackups();
        } catch (error) {
          if (error instanceof InputRefusedError) throw error;
          throw new PlatformReadError(`the backups of cluster ${name} could not be read: ${message(error)}`);
        }
        for (const job of listing.jobs) reply.jobs.push({ cluster: name, ...job });
        for (const storage of listing.failedStorages) reply.failedStorages.push({ cluster: name, storage });
        const newest = newestBackups(listing);
        for (const guest of view.vms.values()) {
          if (guest.cluster !== name || guest.template || (vmid !== undefined && guest.vmid !== vmid)) continue;
          const found = newest.get(guest.vmid);
          reply.guests.push({
            cluster: name,
            vmid: guest.vmid,
            name: guest.name,
            count: found?.count ?? 0,
            ...(found
              ? {
                  newest: {
                    volid: found.newest.volid,
                    storage: found.newest.storage,
                    ctime: found.newest.ctime,
                    format: found.newest.format,
                  },
                }
              : {}),
          });
        }
      }
      reply.guests.sort((a, b) => a.cluster.localeCompare(b.cluster) || a.vmid - b.vmid);
      return reply;
    },
  };
}
