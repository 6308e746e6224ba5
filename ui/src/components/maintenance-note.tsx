// On a guest's page: the maintenance windows in force that cover it (its own, its node's, one of its tags') and the
// silences on it, as the core lists them. Nothing when there are none. Live on the monitor's maintenance events.
import { covers, guestSubject } from '../../../machines/maintenance';
import { api } from '../api/endpoints';
import type { VmView } from '../api/types';
import { useLoad } from '../live/hooks';
import { href } from '../router';
import { When } from './common';

export function MaintenanceNote({ vm }: { vm: Pick<VmView, 'cluster' | 'vmid' | 'node' | 'tags'> }) {
  const guest = `${vm.cluster}/${vm.vmid}`;
  const loaded = useLoad((signal) => api.maintenanceBoard(false, signal), [guest], {
    topics: ['maintenance'],
    throttleMs: 1000,
    pollMs: 60_000,
  });
  const subject = guestSubject(vm);
  const windows = loaded.data?.windows.filter((w) => w.state === 'active' && covers(w, subject)) ?? [];
  const silences = loaded.data?.silences.filter((s) => s.state === 'active' && s.guest === guest) ?? [];
  if (windows.length === 0 && silences.length === 0) return null;
  return (
    <section class="callout tone-warn" aria-labelledby="vm-maintenance-h" data-testid="vm-maintenance">
      <h2 id="vm-maintenance-h">{windows.length > 0 ? 'In maintenance' : 'Silenced'}</h2>
      <p>
        {windows.length > 0
          ? 'Overseer records what it finds here but does not remediate or page; its own requests are denied and yours need a second person’s approval.'
          : 'Overseer records incidents of these kinds here but neither remediates them nor pages anyone.'}{' '}
        <a href={href('maintenance')}>All maintenance</a>
      </p>
      <ul>
        {windows.map((w) => (
          <li key={w.id}>
            {w.scope === 'guest' ? 'this guest' : `${w.scope} ${w.target}`} until <When at={w.until} />, by{' '}
            {w.byName ?? w.by}: “{w.reason}”
          </li>
        ))}
        {silences.map((s) => (
          <li key={s.id}>
            {s.kind} silenced until <When at={s.until} />, by {s.byName ?? s.by}: “{s.reason}”
          </li>
        ))}
      </ul>
    </section>
  );
}
