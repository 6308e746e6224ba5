// What the simulated cluster's release (SimSeed.version: '8.2.4' by default, '9.0.3', ...) changes in the answers of
// the paths the simulator serves. Each difference names where it comes from in Proxmox's sources.
// Known and not simulated: /cluster/resources `network` entries (SDN; pve-manager 9.1, commit 1804cdf1) and node
// `host-arch` (9.1, commit 7192d034); a VM's `mem` from the balloon's inside view (qemu-server 9, b14ae0d9); the
// `meta: creation-qemu=` of VMs created on a PVE 9 cluster (the simulator's VMs say 9.0.2).
import { createHash } from 'node:crypto';

export interface PveRelease {
  /** pve-manager version, e.g. '9.0.3'. */
  version: string;
  major: number;
  /**
   * GET /nodes/{node}/status: `memory.available` (MemAvailable of /proc/meminfo).
   * pve-manager 9.0.0, commit 8fd3420b "api: node status: add the available memory to return value".
   */
  memAvailable: boolean;
  /**
   * `memhost`, the host's view of a guest's memory: on qemu-server's vmstatus (GET /nodes/{node}/qemu,
   * .../qemu/{vmid}/status/current; qemu-server 9.0, commit d426de6c "vmstatus: add memhost for host view of vm mem
   * consumption") and on every guest entry of /cluster/resources (pve-manager 9.0, commit e3ac6efa; read from the
   * pve-vm-9.0 RRD, where pvestatd leaves the column empty for containers, so theirs is 0).
   */
  memhost: boolean;
  /**
   * Pressure stall averages (pressurecpusome, pressurecpufull, pressureiosome, pressureiofull, pressurememorysome,
   * pressurememoryfull) on running guests' status: qemu-server 9.0 commit 213200ef and pve-container 6.0.7 commit
   * 275807b "metrics: add pressure stall information to status".
   */
  pressure: boolean;
  /**
   * `hastate` on node entries of /cluster/resources (the HA manager's node status, present once HA is in use):
   * pve-manager 8.3.0, commit 993d05ab "api/ui: include the node ha status in resources call".
   */
  nodeHaState: boolean;
  /**
   * `ha.group` in status/current of an HA-managed guest (PVE::HA::Config::get_service_status; null without a group):
   * HA groups became rules in PVE 9 and pve-ha-manager 5.0.6 (PVE 9.1) dropped the field, commit 86c4db1.
   */
  haGroup: boolean;
  /** Running kernel (node status `kversion`, `current-kernel`): PVE 8.2 ships 6.8, PVE 9.0 ships 6.14. */
  kernel: { release: string; build: string };
  /** pve-qemu-kvm of the release (running-qemu, running-machine, meta creation-qemu): 9.0 in PVE 8.2, 10.0 in PVE 9. */
  qemu: string;
  /** The pve-manager commit /version's `repoid` and node status `pveversion` name (first 16 hex digits). */
  repoid: string;
}

/** The release commits ("bump version to ...") of the versions the simulator is usually seeded with. */
const REPOIDS: Record<string, string> = { '8.2.4': 'faa83925c9641325', '9.0.3': '025864202ebb6109' };

function parse(version: string): number[] {
  return version.split(/[.~-]/).map((p) => Number.parseInt(p, 10) || 0);
}

/** <0, 0 or >0 as `a` is older than, the same as or newer than `b` (numeric parts). */
export function compareVersions(a: string, b: string): number {
  const x = parse(a);
  const y = parse(b);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

const atLeast = (version: string, min: string) => compareVersions(version, min) >= 0;

const releases = new Map<string, PveRelease>();

/** The answers' differences for a pve-manager version (memoised: views call this per request). */
export function releaseOf(version: string): PveRelease {
  let r = releases.get(version);
  if (r) return r;
  const nine = atLeast(version, '9.0.0');
  r = {
    version,
    major: parse(version)[0] ?? 8,
    memAvailable: nine,
    memhost: nine,
    pressure: nine,
    nodeHaState: atLeast(version, '8.3.0'),
    haGroup: !atLeast(version, '9.1.0'),
    kernel: nine
      ? { release: '6.14.8-2-pve', build: '#1 SMP PREEMPT_DYNAMIC PMX 6.14.8-2 (2025-07-22T10:04Z)' }
      : { release: '6.8.12-1-pve', build: '#1 SMP PREEMPT_DYNAMIC PMX 6.8.12-1 (2024-08-05T16:17Z)' },
    qemu: nine ? '10.0.2' : '9.0.2',
    repoid: REPOIDS[version] ?? createHash('sha1').update(version).digest('hex').slice(0, 16),
  };
  releases.set(version, r);
  return r;
}

/** The machine type a running VM reports (`running-machine`): the release's QEMU major.minor, i440fx. */
export function runningMachine(r: PveRelease): string {
  return `pc-i440fx-${r.qemu.split('.').slice(0, 2).join('.')}+pve0`;
}
