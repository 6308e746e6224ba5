// The last-known inventory: VMs, hosts and clusters, each with the state of its actor.
import type { Database } from 'better-sqlite3';
import type { ClusterInfo, HostInfo, VmInfo } from '../machines/types';
import { fromJson, toJson } from './json';
import { StatementCache, Where } from './statements';
import { TABLES } from './tables';

export interface VmRecord {
  info: VmInfo;
  /** The VM actor's state ('running', 'stopped', 'destroying', ...). */
  state: string;
  updatedAt: number;
}

export interface HostRecord {
  info: HostInfo;
  state: string;
  updatedAt: number;
}

export interface ClusterRecord {
  info: ClusterInfo;
  updatedAt: number;
}

export interface HostRow {
  info: HostInfo;
  state: string;
  at: number;
}

export interface VmFilter {
  cluster?: string | undefined;
  node?: string | undefined;
  state?: string | undefined;
  /** VMs carrying this tag. */
  tag?: string | undefined;
}

export interface HostFilter {
  cluster?: string | undefined;
  state?: string | undefined;
}

interface StateRow {
  cluster: string;
  key: string | number;
  info: string;
  state: string;
  updated_at: number;
}

const T = TABLES;

export class InventoryRepo {
  private readonly stmts: StatementCache;
  private readonly upsertHostsTx: (rows: readonly HostRow[]) => void;

  constructor(db: Database) {
    this.stmts = new StatementCache(db);
    const upsertHosts = db.transaction((rows: readonly HostRow[]) => {
      for (const row of rows) this.upsertHost(row.info, row.state, row.at);
    });
    this.upsertHostsTx = (rows) => upsertHosts.immediate(rows);
  }

  // ---- VMs ----------------------------------------------------------------------------------------------------
  // Read from the view of the VM actors' snapshots (migration v11): a VM is written once per change, as its actor's
  // snapshot (actors/entity-actors.ts).

  getVm(cluster: string, vmid: number): VmRecord | undefined {
    const row = this.stmts
      .get<StateRow>(
        `SELECT cluster, vmid AS key, info, state, updated_at FROM ${T.vms} WHERE cluster = ? AND vmid = ?`,
      )
      .get(cluster, vmid);
    return row && this.vmRecord(row);
  }

  /** VMs matching every given field, ordered by cluster then vmid. */
  listVms(filter: VmFilter = {}): VmRecord[] {
    const where = new Where()
      .eq(filter.cluster, 'cluster = ?')
      .eq(filter.node, 'node = ?')
      .eq(filter.state, 'state = ?')
      .eq(filter.tag, `EXISTS (SELECT 1 FROM json_each(info, '$.tags') WHERE value = ?)`);
    return this.stmts
      .get<StateRow>(
        `SELECT cluster, vmid AS key, info, state, updated_at FROM ${T.vms} ${where.sql} ORDER BY cluster, vmid`,
      )
      .all(...where.params)
      .map((row) => this.vmRecord(row));
  }

  /** Number of VMs per actor state. */
  countVmsByState(): Record<string, number> {
    return this.countByState(T.vms);
  }

  // ---- hosts --------------------------------------------------------------------------------------------------

  upsertHost(info: HostInfo, state: string, at: number): void {
    this.stmts
      .get(
        `INSERT INTO ${T.hosts} (cluster, node, info, state, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (cluster, node) DO UPDATE SET
           info = excluded.info, state = excluded.state, updated_at = excluded.updated_at`,
      )
      .run(info.cluster, info.node, toJson(info, 'HostInfo'), state, at);
  }

  upsertHosts(rows: readonly HostRow[]): void {
    this.upsertHostsTx(rows);
  }

  getHost(cluster: string, node: string): HostRecord | undefined {
    const row = this.stmts
      .get<StateRow>(
        `SELECT cluster, node AS key, info, state, updated_at FROM ${T.hosts} WHERE cluster = ? AND node = ?`,
      )
      .get(cluster, node);
    return row && this.hostRecord(row);
  }

  listHosts(filter: HostFilter = {}): HostRecord[] {
    const where = new Where().eq(filter.cluster, 'cluster = ?').eq(filter.state, 'state = ?');
    return this.stmts
      .get<StateRow>(
        `SELECT cluster, node AS key, info, state, updated_at FROM ${T.hosts} ${where.sql} ORDER BY cluster, node`,
      )
      .all(...where.params)
      .map((row) => this.hostRecord(row));
  }

  markHostState(cluster: string, node: string, state: string, at: number): boolean {
    return (
      this.stmts
        .get(`UPDATE ${T.hosts} SET state = ?, updated_at = ? WHERE cluster = ? AND node = ?`)
        .run(state, at, cluster, node).changes > 0
    );
  }

  deleteHost(cluster: string, node: string): boolean {
    return this.stmts.get(`DELETE FROM ${T.hosts} WHERE cluster = ? AND node = ?`).run(cluster, node).changes > 0;
  }

  countHostsByState(): Record<string, number> {
    return this.countByState(T.hosts);
  }

  // ---- clusters -----------------------------------------------------------------------------------------------

  upsertCluster(info: ClusterInfo, at: number): void {
    this.stmts
      .get(
        `INSERT INTO ${T.clusters} (cluster, info, updated_at) VALUES (?, ?, ?)
         ON CONFLICT (cluster) DO UPDATE SET info = excluded.info, updated_at = excluded.updated_at`,
      )
      .run(info.cluster, toJson(info, 'ClusterInfo'), at);
  }

  getCluster(cluster: string): ClusterRecord | undefined {
    const row = this.stmts
      .get<{ cluster: string; info: string; updated_at: number }>(
        `SELECT cluster, info, updated_at FROM ${T.clusters} WHERE cluster = ?`,
      )
      .get(cluster);
    return row && { info: fromJson<ClusterInfo>(row.info, T.clusters, row.cluster), updatedAt: row.updated_at };
  }

  listClusters(): ClusterRecord[] {
    return this.stmts
      .get<{ cluster: string; info: string; updated_at: number }>(
        `SELECT cluster, info, updated_at FROM ${T.clusters} ORDER BY cluster`,
      )
      .all()
      .map((row) => ({ info: fromJson<ClusterInfo>(row.info, T.clusters, row.cluster), updatedAt: row.updated_at }));
  }

  deleteCluster(cluster: string): boolean {
    return this.stmts.get(`DELETE FROM ${T.clusters} WHERE cluster = ?`).run(cluster).changes > 0;
  }

  // ---- rows ---------------------------------------------------------------------------------------------------

  private countByState(table: typeof T.vms | typeof T.hosts): Record<string, number> {
    const counts: Record<string, number> = {};
    const rows = this.stmts
      .get<{ state: string; n: number }>(`SELECT state, count(*) AS n FROM ${table} GROUP BY state`)
      .all();
    for (const { state, n } of rows) counts[state] = n;
    return counts;
  }

  private vmRecord(row: StateRow): VmRecord {
    return {
      info: fromJson<VmInfo>(row.info, T.vms, `${row.cluster}/${row.key}`),
      state: row.state,
      updatedAt: row.updated_at,
    };
  }

  private hostRecord(row: StateRow): HostRecord {
    return {
      info: fromJson<HostInfo>(row.info, T.hosts, `${row.cluster}/${row.key}`),
      state: row.state,
      updatedAt: row.updated_at,
    };
  }
}
