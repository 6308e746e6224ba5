// Maintenance windows and silences between a core's SQLite and the record (DESIGN §14, issue 15): what an operator
// told Overseer to leave alone must survive the core it was told to. record-entities.ts versions and imports them as
// it does every entity; here are their bodies (the full row, under the cluster it belongs to) and how a value read
// from the record is written: the row upserted by id, every column as the record has it (started, ended early). A
// row here with the same id about another target, or made at another time, is a clash, never overwritten.
import { type MaintenanceEntity, recordKey, type SilenceEntity, silenceCluster, windowCluster } from '../protocol';
import { RecordRowConflictError, type StateStore, TABLES } from '../state';

/** A window or silence to export does not exist here, or belongs to no cluster (the caller's RecordEntityError). */
export class MissingEntryError extends Error {
  override name = 'MissingEntryError';
}

/** A window's key and its entity without version: under the cluster its target names, or `cluster` (tag windows). */
export function maintenanceBody(
  store: StateStore,
  id: string,
  cluster?: string,
): { key: string; body: Omit<MaintenanceEntity, 'version'> } {
  const window = store.maintenance.windows.get(id);
  if (!window) throw new MissingEntryError(`maintenance window ${id} does not exist here`);
  const owner = windowCluster(window) ?? cluster;
  if (!owner) {
    throw new MissingEntryError(
      `maintenance window ${id} (${window.scope} ${window.target}) names no Proxmox cluster: name the cluster to export it`,
    );
  }
  return {
    key: recordKey.maintenance(owner, id),
    body: { v: 1, kind: 'maintenance', cluster: owner, window: window as MaintenanceEntity['window'] },
  };
}

/** A silence's key and its entity without version: under the cluster of its guest. */
export function silenceBody(store: StateStore, id: string): { key: string; body: Omit<SilenceEntity, 'version'> } {
  const silence = store.maintenance.silences.get(id);
  if (!silence) throw new MissingEntryError(`silence ${id} does not exist here`);
  const owner = silenceCluster(silence);
  if (!owner) throw new MissingEntryError(`silence ${id} (guest ${silence.guest}) names no Proxmox cluster`);
  return {
    key: recordKey.silence(owner, id),
    body: { v: 1, kind: 'silence', cluster: owner, silence: silence as SilenceEntity['silence'] },
  };
}

/** Upserts the window's row by id; RecordRowConflictError when the row here with its id is another window. */
export function writeMaintenance(store: StateStore, value: MaintenanceEntity): void {
  const w = value.window;
  const here = store.maintenance.windows.get(w.id);
  if (here && (here.scope !== w.scope || here.target !== w.target || here.createdAt !== w.createdAt)) {
    throw new RecordRowConflictError(
      `maintenance window ${w.id}: the one here covers ${here.scope} ${here.target} (made at ${here.createdAt}), ` +
        `the record's ${w.scope} ${w.target} (made at ${w.createdAt})`,
      TABLES.maintenanceWindows,
    );
  }
  store.maintenance.windows.put(w);
}

/** Upserts the silence's row by id; RecordRowConflictError when the row here with its id is another silence. */
export function writeSilence(store: StateStore, value: SilenceEntity): void {
  const s = value.silence;
  const here = store.maintenance.silences.get(s.id);
  if (here && (here.kind !== s.kind || here.guest !== s.guest || here.createdAt !== s.createdAt)) {
    throw new RecordRowConflictError(
      `silence ${s.id}: the one here silences ${here.kind} on ${here.guest} (made at ${here.createdAt}), ` +
        `the record's ${s.kind} on ${s.guest} (made at ${s.createdAt})`,
      TABLES.silences,
    );
  }
  store.maintenance.silences.put(s);
}
