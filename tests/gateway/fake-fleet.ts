// The fake core's fleet answers (tests/gateway/fake-core.ts): selector and drain expansion, snapshots, backups.
// Like the rest of the fake it is deliberately small: enough for the gateway and the CLI to show what the core
// answers, not the core's rules (the real gate is tested on the simulator).
import type { BulkMemberView, QueryMap, SnapshotView, SubmitPayload, VmView } from '../../protocol';

type Check = { check: string; outcome: 'pass' | 'deny' | 'approval' | 'skipped'; reason: string };

/** The guests a selector names (`@tag:web,-105`), or why it names none. */
export function expandSelector(selector: string, vms: readonly VmView[]): number[] | string {
  const [head = '', ...rest] = selector.split(',');
  const excluded = new Set<number>();
  for (const part of rest) {
    if (!/^-\d+$/.test(part)) return `selector '${selector}': expected exclusions like -105 after the first part`;
    excluded.add(Number(part.slice(1)));
  }
  const match = /^@(all|tag|pool|node)(?::(.+))?$/.exec(head);
  if (!match || (match[1] !== 'all') !== (match[2] !== undefined)) {
    return `selector '${selector}': unknown selector kind '${head}' (kinds: @tag:, @pool:, @node:, @all)`;
  }
  const [, kind, value] = match;
  const named = vms.filter(
    (v) =>
      !v.template &&
      (kind === 'all' ||
        (kind === 'tag' && v.tags.includes(value!)) ||
        (kind === 'pool' && v.pool === value) ||
        (kind === 'node' && v.node === value)),
  );
  const vmids = named.map((v) => v.vmid).filter((vmid) => !excluded.has(vmid));
  return vmids.length > 0 ? vmids : `selector '${selector}' names no guest`;
}

export interface Expansion {
  checks: Check[];
  /** Undefined for a single-guest request. */
  members?: BulkMemberView[];
  /** The guests the request touches (one, or the members). */
  guests: VmView[];
  denied: boolean;
}

/** What a request touches: its one guest, a selector's members, or a drain's moves. */
export function expand(p: SubmitPayload, vms: readonly VmView[], nodes: readonly string[]): Expansion {
  const inCluster = vms.filter((v) => v.cluster === p.target.cluster);
  if (p.target.node !== undefined) {
    const node = p.target.node;
    if (!nodes.includes(node)) {
      return { checks: [{ check: 'target', outcome: 'deny', reason: `no node ${node}` }], guests: [], denied: true };
    }
    if (p.action === 'undrain') {
      return { checks: [{ check: 'target', outcome: 'pass', reason: `node ${node}` }], guests: [], denied: false };
    }
    const other = nodes.find((n) => n !== node)!;
    const guests = inCluster.filter((v) => v.node === node && !v.template);
    const members = guests.map((v) => ({ vmid: v.vmid, action: 'migrate' as const, params: { target: other } }));
    const reason = `${guests.length} guest(s) move off ${node}`;
    return { checks: [{ check: 'target', outcome: 'pass', reason }], members, guests, denied: false };
  }
  if (p.target.selector !== undefined) {
    const vmids = expandSelector(p.target.selector, inCluster);
    if (typeof vmids === 'string') {
      return { checks: [{ check: 'target', outcome: 'deny', reason: vmids }], guests: [], denied: true };
    }
    const members = vmids.map((vmid) => ({ vmid, action: p.action, params: p.params }));
    const guests = inCluster.filter((v) => vmids.includes(v.vmid));
    const reason = `${p.target.selector} names ${vmids.length} guest(s)`;
    return { checks: [{ check: 'target', outcome: 'pass', reason }], members, guests, denied: false };
  }
  const one = inCluster.find((v) => v.vmid === p.target.vmid);
  if (p.action !== 'deploy' && !one) {
    const reason = `no VM ${p.target.cluster}/${p.target.vmid}`;
    return { checks: [{ check: 'target', outcome: 'deny', reason }], guests: [], denied: true };
  }
  return { checks: [], guests: one ? [one] : [], denied: false };
}

const snapshot = (name: string, snaptime: number, extra: Partial<SnapshotView> = {}): SnapshotView => ({
  name,
  snaptime,
  ...extra,
});

/** Snapshots by `cluster/vmid`: 101 has two, the rest none. */
export function fakeSnapshots(): Map<string, SnapshotView[]> {
  return new Map([
    [
      'lab/101',
      [
        snapshot('pre-upgrade', 1_699_990_000, { description: 'before the kernel update' }),
        snapshot('after_upgrade', 1_699_995_000, { parent: 'pre-upgrade' }),
      ],
    ],
  ]);
}

/** One daily job for everything; 101 backed up two hours before `now`, 102 never; one unreadable storage. */
export function fakeBackups(
  p: QueryMap['backups']['payload'],
  vms: readonly VmView[],
  now: number,
): QueryMap['backups']['reply'] {
  const guests = vms
    .filter((v) => (p.cluster === undefined || v.cluster === p.cluster) && (p.vmid === undefined || v.vmid === p.vmid))
    .map((v) => ({
      cluster: v.cluster,
      vmid: v.vmid,
      name: v.name,
      ...(v.vmid === 101
        ? {
            newest: {
              volid: 'pbs:backup/vm/101/2023-11-14T20:13:20Z',
              storage: 'pbs',
              ctime: Math.floor(now / 1000) - 7200,
              format: 'pbs-vm',
            },
          }
        : {}),
      count: v.vmid === 101 ? 3 : 0,
    }));
  const jobs =
    p.cluster === undefined || p.cluster === 'lab'
      ? [
          {
            cluster: 'lab',
            id: 'backup-daily',
            enabled: true,
            schedule: '21:00',
            storage: 'pbs',
            all: true,
            vmids: [],
          },
        ]
      : [];
  return { jobs, guests, failedStorages: [{ cluster: 'lab', storage: 'nfs-old' }] };
}
