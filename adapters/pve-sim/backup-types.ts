// The simulator's storages, backup archives and backup jobs: seeds (input) and live state.

/** Storage plugin types the simulator knows (pve-storage plugin names). */
export type SimStorageType = 'dir' | 'zfspool' | 'pbs' | 'nfs' | 'cifs';

/**
 * A storage besides the two every node has (`local`, a dir storage for iso/vztmpl/backup, and `local-zfs`, a
 * zfspool for images/rootdir). A `pbs` storage is a Proxmox Backup Server datastore (shared, content backup).
 */
export interface SimStorageSeed {
  storage: string;
  type: SimStorageType;
  /** Content types (backup, images, rootdir, iso, vztmpl, ...). Default: backup. */
  content?: string[] | undefined;
  /** Default: true for pbs, nfs and cifs, false otherwise. */
  shared?: boolean | undefined;
  /** The nodes it is available on (default: all). */
  nodes?: string[] | undefined;
  /** pbs: the backup server's address and datastore. */
  server?: string | undefined;
  datastore?: string | undefined;
  /** dir/nfs/cifs: its mount path. */
  path?: string | undefined;
  /** Capacity in bytes of a shared storage (node-local ones use the node's disk). Default 4 TiB. */
  total?: number | undefined;
}

/** A backup archive a guest already has when the simulator starts. */
export interface SimBackupSeed {
  /** Default `local` (on the guest's node). */
  storage?: string | undefined;
  /** When it was made: epoch seconds, or hours before the simulator's start (default 24). */
  ctime?: number | undefined;
  ageHours?: number | undefined;
  /** Default: a fifth of the guest's disk. */
  size?: number | undefined;
  notes?: string | undefined;
  protected?: boolean | undefined;
}

/** A scheduled backup job (an entry of /etc/pve/jobs.cfg of type vzdump). */
export interface SimBackupJobSeed {
  id: string;
  /** systemd-style calendar event, e.g. `21:00`, `sat 02:00`, `mon..fri 01:30`. Default `00:00`. */
  schedule?: string | undefined;
  storage?: string | undefined;
  /** Default true. */
  enabled?: boolean | undefined;
  /** Back up every guest (minus `exclude`). */
  all?: boolean | undefined;
  vmids?: number[] | undefined;
  pool?: string | undefined;
  exclude?: number[] | undefined;
  /** Only guests on this node. */
  node?: string | undefined;
  mode?: 'snapshot' | 'suspend' | 'stop' | undefined;
  /** Default zstd (what the GUI sets). */
  compress?: '0' | '1' | 'gzip' | 'lzo' | 'zstd' | undefined;
  notesTemplate?: string | undefined;
  comment?: string | undefined;
}

export interface SimStorage {
  storage: string;
  type: SimStorageType;
  content: string[];
  shared: boolean;
  nodes?: string[] | undefined;
  server?: string | undefined;
  datastore?: string | undefined;
  path?: string | undefined;
  total?: number | undefined;
  /** false: unreachable (a backup server that is down); its listings fail. */
  online: boolean;
}

export interface SimBackup {
  volid: string;
  storage: string;
  /** The node that holds it (for a shared storage: the node that made it). */
  node: string;
  vmid: number;
  guestType: 'qemu' | 'lxc';
  /** epoch seconds */
  ctime: number;
  size: number;
  /** vma.zst, tar.zst, vma, pbs-vm, pbs-ct, ... */
  format: string;
  notes?: string | undefined;
  protected: boolean;
}

export interface SimBackupJob {
  id: string;
  schedule: string;
  storage?: string | undefined;
  enabled: boolean;
  all: boolean;
  vmids: number[];
  pool?: string | undefined;
  exclude: number[];
  node?: string | undefined;
  mode: 'snapshot' | 'suspend' | 'stop';
  compress: string;
  notesTemplate?: string | undefined;
  comment?: string | undefined;
}
