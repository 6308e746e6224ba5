// The monitor's restraint: for a guest or node in maintenance, or an incident kind silenced on a guest, the incident
// is still recorded (opened, seen, stored, published, audited) but nothing remediates it and nobody is paged. When the
// window or silence ends (or runs out), the next monitor cycle treats a condition still present as usual.
import type { Log } from '../adapters/log';
import { describeSilence, describeWindow, guestSubject, silenceFor, windowsCovering } from '../machines/maintenance';
import { parseSubject } from '../machines/monitor';
import { vmKey } from '../machines/types';
import type { SystemView } from './system-view';

type QuietView = Pick<SystemView, 'vms' | 'maintenance'>;

/**
 * Why the monitor leaves `kind` on `subject` (`vm:lab/101`, `host:lab/pve2`) alone at `now`, or undefined. A guest is
 * covered by a window on itself, its node or one of its tags, or by a silence of that kind; a node by a window on it.
 */
export function quietReason(view: QuietView, kind: string, subject: string, now: number): string | undefined {
  const parsed = parseSubject(subject);
  if (parsed?.kind === 'vm') {
    const key = vmKey(parsed.cluster, parsed.vmid);
    const vm = view.vms.get(key);
    const covered = vm ? guestSubject(vm) : { cluster: parsed.cluster, vmid: parsed.vmid };
    const [window] = windowsCovering(view.maintenance.windows(now), covered, now);
    if (window) return `VM ${key} is in maintenance (${describeWindow(window)})`;
    const silence = silenceFor(view.maintenance.silences(now), kind, key, now);
    return silence ? describeSilence(silence) : undefined;
  }
  if (parsed?.kind === 'host') {
    const [window] = windowsCovering(view.maintenance.windows(now), parsed, now);
    return window ? `node ${parsed.cluster}/${parsed.node} is in maintenance (${describeWindow(window)})` : undefined;
  }
  return undefined;
}

/** Decides, per incident, whether the monitor holds back, and logs it once per reason. */
export class MonitorQuiet {
  /** Incident id → the reason last logged. */
  private readonly told = new Map<string, string>();

  constructor(
    private readonly view: QuietView,
    private readonly log: Pick<Log, 'warn'>,
  ) {}

  /** Holds back the remediation of incident `id` (true) when its subject is in maintenance or its kind silenced. */
  holdsRemediation(id: string, condition: { kind: string; subject: string }, now: number): boolean {
    const reason = quietReason(this.view, condition.kind, condition.subject, now);
    if (reason === undefined) {
      if (this.told.delete(id)) this.log.warn(`incident:${id}: no longer held back: remediation resumes`);
      return false;
    }
    if (this.told.get(id) !== reason) {
      this.told.set(id, reason);
      this.log.warn(`incident:${id}: recorded, not remediated, nobody paged: ${reason}`);
    }
    return true;
  }

  /** Is a notice about `kind` on `subject` kept from the pager? */
  holdsPage(notice: { kind: string; subject: string; at: number }): boolean {
    return quietReason(this.view, notice.kind, notice.subject, notice.at) !== undefined;
  }

  /** An incident ended: nothing more to remember about it. */
  forget(id: string): void {
    this.told.delete(id);
  }
}
