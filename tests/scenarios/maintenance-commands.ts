// The scenario runner's maintenance commands (tests/scenarios/runner.ts), answered by the core's own handlers
// (actors/maintenance-service.ts) on the scenario's store, clock and live view; ids are m1, m2, ... and s1, s2, ...
//   maintenance start guest|node|tag <target> for <seconds> "<reason>" [as <user>]
//   maintenance end <id> [as <user>]
//   maintenance list                     the windows not yet over
//   silence add <kind> <cluster>/<vmid> for <seconds> "<reason>" [as <user>]
//   silence remove <id> [as <user>]

import { maintenanceQueries } from '../../actors/maintenance-service';
import type { SystemView } from '../../actors/system-view';
import type { Clock } from '../../adapters/clock';
import type { MaintenanceScope } from '../../machines/maintenance';
import { isoTime } from '../../machines/maintenance';
import type { Requester } from '../../machines/types';
import type { MaintenanceView, Principal, SilenceView } from '../../protocol';
import type { StateStore } from '../../state';

const principalOf = (r: Requester): Principal => ({ id: r.id, name: r.name ?? r.id, role: r.role, person: r.id });

/** `active until <time>`, `ended at <time> by <who>`. */
const standing = (e: MaintenanceView | SilenceView) =>
  e.endedAt !== undefined ? `ended at ${isoTime(e.endedAt)} by ${e.endedBy}` : `${e.state} until ${isoTime(e.until)}`;
const windowLine = (w: MaintenanceView) => `maintenance ${w.id}: ${w.scope} ${w.target} ${standing(w)} (${w.reason})`;
const silenceLine = (s: SilenceView) => `silence ${s.id}: ${s.kind} on ${s.guest} ${standing(s)} (${s.reason})`;

/** Runs one maintenance or silence command; returns the line to log. */
export function scenarioMaintenance(deps: {
  store: StateStore;
  clock: Clock;
  view: SystemView;
}): (words: string[], as: Requester) => Promise<string> {
  const counters = { maintenance: 0, silence: 0 };
  const q = maintenanceQueries({
    ...deps,
    newId: (kind) => `${kind === 'maintenance' ? 'm' : 's'}${++counters[kind]}`,
  });
  const seconds = (words: string[]) => Number(words[words.indexOf('for') + 1]);
  const reasonOf = (words: string[]) => words[words.indexOf('for') + 2] ?? '';
  return async ([noun, verb, a, b, ...rest], as) => {
    const words = [a ?? '', b ?? '', ...rest];
    const principal = principalOf(as);
    if (noun === 'maintenance' && verb === 'start') {
      const payload = { scope: a as MaintenanceScope, target: b ?? '', durationSeconds: seconds(words) };
      return windowLine(await q.maintenanceStart({ ...payload, reason: reasonOf(words) }, principal));
    }
    if (noun === 'maintenance' && verb === 'end') {
      const r = await q.maintenanceEnd({ id: a ?? '' }, principal);
      return r.ok ? windowLine(r.window) : `maintenance ${a}: ${r.reason}`;
    }
    if (noun === 'maintenance' && verb === 'list') {
      const page = await q.maintenanceList({}, principal);
      return `maintenance: ${page.items.map(windowLine).join('; ') || 'none'}`;
    }
    if (noun === 'silence' && verb === 'add') {
      const payload = { kind: a ?? '', guest: b ?? '', durationSeconds: seconds(words), reason: reasonOf(words) };
      return silenceLine(await q.silenceAdd(payload, principal));
    }
    if (noun === 'silence' && verb === 'remove') {
      const r = await q.silenceRemove({ id: a ?? '' }, principal);
      return r.ok ? silenceLine(r.silence) : `silence ${a}: ${r.reason}`;
    }
    throw new Error(`unknown scenario command: ${[noun, verb, a, b, ...rest].join(' ')}`);
  };
}
