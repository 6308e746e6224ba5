// Maintenance windows and silences: what an operator told Overseer to leave alone, and until when. A window covers a
// guest (`<cluster>/<vmid>`), a node (`<cluster>/<node>`: every guest on it) or a tag (every guest carrying it); a
// silence covers one incident kind on one guest. Both are in force from `from` until `until` (epoch ms; `until` is
// not included) unless ended earlier. Pure: time comes in as `now`; the gate check and the monitor share these rules.
import type { VmInfo } from './types';

export const MAINTENANCE_SCOPES = ['guest', 'node', 'tag'] as const;
export type MaintenanceScope = (typeof MAINTENANCE_SCOPES)[number];

/** A maintenance window as the runtime keeps it. */
export interface MaintenanceWindow {
  id: string;
  scope: MaintenanceScope;
  /** guest `<cluster>/<vmid>`, node `<cluster>/<node>`, tag `<tag>` */
  target: string;
  /** epoch ms */
  from: number;
  /** epoch ms, not included */
  until: number;
  reason: string;
  /** The principal who set it (a token id) and their name. */
  by: string;
  byName?: string | undefined;
  /** The drain request that set this node window (its own migrations away from the node pass the check). */
  request?: string | undefined;
}

/** A silence: incidents of `kind` on `guest` (`<cluster>/<vmid>`) neither remediate nor page. */
export interface Silence {
  id: string;
  kind: string;
  guest: string;
  from: number;
  until: number;
  reason: string;
  by: string;
  byName?: string | undefined;
}

/** What a window may cover: a guest (with its node and tags, when known) or a node alone. */
export interface MaintenanceSubject {
  cluster: string;
  vmid?: number | undefined;
  node?: string | undefined;
  tags?: readonly string[] | undefined;
}

/** Is it in force at `now`? */
export const inForce = (entry: { from: number; until: number }, now: number): boolean =>
  entry.from <= now && now < entry.until;

/** The subject of a guest as the inventory knows it (its node and tags count). */
export const guestSubject = (vm: Pick<VmInfo, 'cluster' | 'vmid' | 'node' | 'tags'>): MaintenanceSubject => ({
  cluster: vm.cluster,
  vmid: vm.vmid,
  node: vm.node,
  tags: vm.tags,
});

/** Does the window cover the subject (whatever the time)? */
export function covers(window: MaintenanceWindow, subject: MaintenanceSubject): boolean {
  switch (window.scope) {
    case 'guest':
      return subject.vmid !== undefined && window.target === `${subject.cluster}/${subject.vmid}`;
    case 'node':
      return subject.node !== undefined && window.target === `${subject.cluster}/${subject.node}`;
    case 'tag':
      return subject.vmid !== undefined && (subject.tags ?? []).includes(window.target);
  }
}

/** The windows in force at `now` that cover the subject, the one lasting longest first. */
export function windowsCovering(
  windows: Iterable<MaintenanceWindow>,
  subject: MaintenanceSubject,
  now: number,
): MaintenanceWindow[] {
  const out: MaintenanceWindow[] = [];
  for (const w of windows) if (inForce(w, now) && covers(w, subject)) out.push(w);
  return out.sort((a, b) => b.until - a.until || a.id.localeCompare(b.id));
}

/** The silence in force at `now` for incidents of `kind` on `guest`, if any (the one lasting longest). */
export function silenceFor(silences: Iterable<Silence>, kind: string, guest: string, now: number): Silence | undefined {
  let found: Silence | undefined;
  for (const s of silences) {
    if (s.kind === kind && s.guest === guest && inForce(s, now) && (!found || s.until > found.until)) found = s;
  }
  return found;
}

/** `2025-01-15T14:00:00Z`: times in sentences, to the second, in UTC. */
export const isoTime = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** `guest lab/101`, `node lab/pve2`, `tag web`. */
export const scopeLabel = (w: Pick<MaintenanceWindow, 'scope' | 'target'>): string => `${w.scope} ${w.target}`;

/** `guest lab/101 until 2025-01-15T14:00:00Z, by olga: disk swap (m1)`: the window, named in full. */
export function describeWindow(w: MaintenanceWindow): string {
  return `${scopeLabel(w)} until ${isoTime(w.until)}, by ${w.byName ?? w.by}: ${w.reason} (${w.id})`;
}

/** `vm-unexpected-stop on lab/101 is silenced until 2025-01-15T14:00:00Z, by olga: flaky agent (s1)`. */
export function describeSilence(s: Silence): string {
  return `${s.kind} on ${s.guest} is silenced until ${isoTime(s.until)}, by ${s.byName ?? s.by}: ${s.reason} (${s.id})`;
}
