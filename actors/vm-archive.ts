// The history of VMs that are gone. PVE hands out the lowest free VMID, so a destroyed VM's id comes back: the new
// VM behind it is a new actor, and the old actor's last snapshot is kept apart under its own key
// (`vm:<cluster>/<vmid>#<n>`, kind `vm-archived`, n = 1, 2, ... per reuse), never restored and never overwritten.
import type { StateStore } from '../state';

/** The kind of an archived VM snapshot (restore brings back kind `vm` only). */
export const ARCHIVED_VM_KIND = 'vm-archived';

/** The key of the n-th archived VM behind `key` (`lab/113` → `lab/113#1`). */
export const vmArchiveKey = (key: string, n: number): string => `${key}#${n}`;

/**
 * Moves the stored snapshot of the VM actor `key` to the next free archive key, in one transaction; returns that
 * archive key, or undefined when nothing was stored.
 */
export function archiveVmSnapshot(store: StateStore, key: string): string | undefined {
  const row = store.snapshots.get(`vm:${key}`);
  if (!row) return undefined;
  let n = 1;
  while (store.snapshots.get(`vm:${vmArchiveKey(key, n)}`)) n++;
  const archived = vmArchiveKey(key, n);
  store.transaction(() => {
    store.snapshots.save(`vm:${archived}`, ARCHIVED_VM_KIND, row.snapshot, row.at);
    store.snapshots.delete(`vm:${key}`);
  });
  return archived;
}
