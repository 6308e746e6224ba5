// Check maintenance: a guest in maintenance — itself, its node or one of its tags — is left alone. The Overseer's own
// requests (remediation) are denied; a person's request needs a second person's approval, its reason naming the
// window (scope, until when, why, who set it). Maintenance keeps Overseer's hands off and its pager quiet; it does not
// lock people out: the one doing the work may still act through Overseer, with a second look (see
// tests/scenarios/maintenance/README.md). A deploy onto a node in maintenance, and a migrate onto one, are treated the
// same way. A drain's own moves pass: a migrate whose parent is the drain request that set its node's window
// (MaintenanceWindow.request) is what that window is for. An undrain ends a node's maintenance and always passes here.
import type { MaintenanceSubject, MaintenanceWindow } from '../../maintenance';
import { describeWindow, guestSubject, windowsCovering } from '../../maintenance';
import { OVERSEER_ID } from '../../types';
import { vmLabel } from '../describe';
import { deploySubject, migrateSubject, targetNode, targetVm } from '../subject';
import type { GateCheck, GateInput } from '../types';

/** One thing the request would touch, and the windows that do not hold it back (a drain's own). */
interface Subject {
  subject: MaintenanceSubject;
  label: string;
  exempt?: (window: MaintenanceWindow) => boolean;
}

/** What the request would touch: its guest (with node and tags) and a migrate's destination, or a deploy's node. */
function subjectsOf(input: GateInput): Subject[] {
  const { request } = input;
  const { cluster } = request.target;
  const deploy = deploySubject(request);
  if (deploy) return [{ subject: { cluster, node: deploy.node }, label: `node ${cluster}/${deploy.node}` }];
  const node = targetNode(input);
  if (node) {
    const drainOwn = (w: MaintenanceWindow) => w.request !== undefined && w.request === request.id;
    return [{ subject: { cluster, node: node.node }, label: `node ${cluster}/${node.node}`, exempt: drainOwn }];
  }
  const target = targetVm(input);
  if (!target) return [];
  const subjects: Subject[] = [];
  if (target.vm) {
    const from = `${cluster}/${target.vm.node}`;
    const drainOwn = (w: MaintenanceWindow) =>
      request.action === 'migrate' &&
      w.scope === 'node' &&
      w.target === from &&
      w.request !== undefined &&
      w.request === request.parent;
    subjects.push({ subject: guestSubject(target.vm), label: vmLabel(target.vm), exempt: drainOwn });
  } else {
    subjects.push({ subject: { cluster, vmid: request.target.vmid }, label: `VM ${target.key}` });
  }
  const move = migrateSubject(request);
  if (move) subjects.push({ subject: { cluster, node: move.target }, label: `node ${cluster}/${move.target}` });
  return subjects;
}

/** A request the Overseer makes by itself (remediation). */
const byOverseer = (input: GateInput): boolean =>
  input.request.origin === 'overseer' || input.request.requester.id === OVERSEER_ID;

export const maintenanceCheck: GateCheck = {
  name: 'maintenance',
  run(input) {
    const { request } = input;
    if (request.action === 'undrain') {
      const node = request.target.node;
      return { outcome: 'pass', reason: `undrain ends the maintenance of node ${request.target.cluster}/${node}` };
    }
    const subjects = subjectsOf(input);
    if (subjects.length === 0) return { outcome: 'pass', reason: `${request.action} touches no guest or node` };
    const clear: string[] = [];
    for (const about of subjects) {
      const covering = windowsCovering(input.maintenance ?? [], about.subject, input.now);
      const [window] = covering.filter((w) => !about.exempt?.(w));
      if (!window) {
        const own = covering.find((w) => about.exempt?.(w));
        clear.push(
          own
            ? `${about.label} leaves node ${own.target} for drain request ${own.request}, which set its maintenance`
            : `${about.label} is not in maintenance`,
        );
        continue;
      }
      const why = `${about.label} is in maintenance (${describeWindow(window)})`;
      if (byOverseer(input)) return { outcome: 'deny', reason: `${why}: Overseer leaves it alone` };
      return { outcome: 'approval', reason: `${why}: acting on it needs a second person's approval` };
    }
    return { outcome: 'pass', reason: clear.join('; ') };
  },
};
