// Building conditions: subjects (actor ids), dedupe keys, and usage levels with hysteresis.
import { actorId } from '../types';
import type { Condition, ConditionKind, Severity, UsageThreshold } from './types';

/** Actor ids conditions are about. Clusters have no actor of their own: `cluster:<name>`. */
export const subjectOf = {
  vm: actorId.vm,
  host: actorId.host,
  cluster: (cluster: string): string => `cluster:${cluster}`,
  request: actorId.request,
} as const;

export type ParsedSubject =
  | { kind: 'vm'; cluster: string; vmid: number }
  | { kind: 'host'; cluster: string; node: string }
  | { kind: 'cluster'; cluster: string }
  | { kind: 'req'; id: string };

/** What a subject names, or undefined for a malformed one. */
export function parseSubject(subject: string): ParsedSubject | undefined {
  const colon = subject.indexOf(':');
  if (colon < 0) return undefined;
  const kind = subject.slice(0, colon);
  const key = subject.slice(colon + 1);
  const [a, b, ...rest] = key.split('/');
  if (!a || rest.length > 0) return undefined;
  switch (kind) {
    case 'vm': {
      const vmid = Number(b);
      return b && Number.isInteger(vmid) ? { kind, cluster: a, vmid } : undefined;
    }
    case 'host':
      return b ? { kind, cluster: a, node: b } : undefined;
    case 'cluster':
      return b === undefined ? { kind, cluster: a } : undefined;
    case 'req':
      return b === undefined ? { kind, id: a } : undefined;
    default:
      return undefined;
  }
}

/** One open incident per key: `<kind>:<subject>`. */
export const conditionKey = (kind: ConditionKind, subject: string): string => `${kind}:${subject}`;

export function condition(
  kind: ConditionKind,
  subject: string,
  severity: Severity,
  detail: string,
  data?: Record<string, unknown>,
): Condition {
  return { kind, subject, dedupeKey: conditionKey(kind, subject), severity, detail, ...(data ? { data } : {}) };
}

/**
 * The severity of a usage fraction, or undefined when it is fine. A condition that was present stays (as a
 * warning) until usage falls `hysteresis` below the warning level, so a value hovering at the line does not flap.
 */
export function usageSeverity(
  value: number,
  threshold: UsageThreshold,
  wasPresent: boolean,
  hysteresis: number,
): Severity | undefined {
  if (!Number.isFinite(value)) return undefined;
  if (value > threshold.critical) return 'critical';
  if (value > threshold.warning) return 'warning';
  if (wasPresent && value > threshold.warning - hysteresis) return 'warning';
  return undefined;
}

/** `125000` → `2m5s`; whole seconds. */
export function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${m}m`;
  if (m > 0) return sec ? `${m}m${sec}s` : `${m}m`;
  return `${sec}s`;
}
