// Check maintenance: a guest in maintenance — itself, its node or one of its tags — is left alone. The Overseer's own
// requests (remediation) are denied; a person's request needs a second person's approval, its reason naming the
// window (scope, until when, why, who set it). Maintenance keeps Overseer's hands off and its pager quiet; it does not
// lock people out: the one doing the work may still act through Overseer, with a second look (see
// tests/scenarios/maintenance/README.md). A deploy onto a node in maintenance is treated the same way.
import type { MaintenanceSubject } from '../../maintenance';
import { describeWindow, guestSubject, windowsCovering } from '../../maintenance';
import { OVERSEER_ID } from '../../types';
import { vmLabel } from '../describe';
import { deploySubject, targetVm } from '../subject';
import type { GateCheck, GateInput } from '../types';

/** What the request would touch: its VM (with node and tags), or the node a deploy clones onto. */
function subjectOf(input: GateInput): { subject: MaintenanceSubject; label: string } | undefined {
  const { cluster } = input.request.target;
  const deploy = deploySubject(input.request);
  if (deploy) return { subject: { cluster, node: deploy.node }, label: `node ${cluster}/${deploy.node}` };
  const target = targetVm(input);
  if (!target) return undefined;
  if (target.vm) return { subject: guestSubject(target.vm), label: vmLabel(target.vm) };
  return { subject: { cluster, vmid: input.request.target.vmid }, label: `VM ${target.key}` };
}

/** A request the Overseer makes by itself (remediation). */
const byOverseer = (input: GateInput): boolean =>
  input.request.origin === 'overseer' || input.request.requester.id === OVERSEER_ID;

export const maintenanceCheck: GateCheck = {
  name: 'maintenance',
  run(input) {
    const about = subjectOf(input);
    if (!about) return { outcome: 'pass', reason: `${input.request.action} touches no guest or node` };
    const [window] = windowsCovering(input.maintenance ?? [], about.subject, input.now);
    if (!window) return { outcome: 'pass', reason: `${about.label} is not in maintenance` };
    const why = `${about.label} is in maintenance (${describeWindow(window)})`;
    if (byOverseer(input)) return { outcome: 'deny', reason: `${why}: Overseer leaves it alone` };
    return { outcome: 'approval', reason: `${why}: acting on it needs a second person's approval` };
  },
};
