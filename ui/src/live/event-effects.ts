// What one live event means for the page: the topics it touches (a kind of data, the actor it is about, the guest
// it concerns) and the facts it carries (a guest's or a node's new state, the core's summary, a fleet that changed
// size). Pure: the store applies the effects.
import type { SummaryReply } from '../api/types';
import type { LiveEvent } from './feed';

/** What a view listens to: a kind of data, or one actor (`actor:vm:lab/101`), or one guest (`vm:lab/101`). */
export type Topic =
  | 'vms'
  | 'hosts'
  | 'requests'
  | 'incidents'
  | 'labs'
  | 'loops'
  | 'maintenance'
  | 'conn'
  | `actor:${string}`
  | `vm:${string}`;

export interface StateChange {
  from: string;
  to: string;
  at: number;
}

export interface EventEffects {
  topics: Topic[];
  /** A guest's actor changed state. */
  vm?: { cluster: string; vmid: number; key: string; change: StateChange };
  /** A node's actor changed state. */
  host?: { key: string; to: string };
  /** The health loop's summary of the fleet. */
  summary?: SummaryReply;
  /** Guests came or went: the list is read again. */
  reloadVms?: boolean;
}

export const vmKey = (cluster: string, vmid: number | string): string => `${cluster}/${vmid}`;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export function effectsOf({ tokens, payload }: LiveEvent): EventEffects {
  const [kind, a = '', b = '', c = ''] = tokens;
  switch (kind) {
    case 'vm': {
      const key = vmKey(a, b);
      const topics: Topic[] = [`actor:${str(payload.id) ?? `vm:${key}`}`, 'vms', `vm:${key}`];
      const to = str(payload.to);
      if (c !== 'state' || to === undefined) return { topics };
      const change = { from: str(payload.from) ?? '', to, at: Number(payload.at) || Date.now() };
      return { topics, vm: { cluster: a, vmid: Number(b), key, change } };
    }
    case 'host': {
      const key = `${a}/${b}`;
      const to = str(payload.to);
      return { topics: [`actor:${str(payload.id) ?? `host:${key}`}`, 'hosts'], ...(to ? { host: { key, to } } : {}) };
    }
    case 'req': {
      const topics: Topic[] = [`actor:req:${a}`, 'requests'];
      const t = payload.target as { cluster?: unknown; vmid?: unknown } | undefined;
      if (t && typeof t.cluster === 'string' && typeof t.vmid === 'number')
        topics.push(`vm:${vmKey(t.cluster, t.vmid)}`);
      return { topics };
    }
    case 'incident': {
      const topics: Topic[] = [`actor:incident:${a}`, 'incidents'];
      const subject = str(payload.subject);
      if (subject?.startsWith('vm:')) topics.push(`vm:${subject.slice(3)}`);
      return { topics };
    }
    case 'lab':
      return { topics: [`actor:lab:${str(payload.cluster) ?? ''}/${a}`, 'labs'] };
    case 'loop': {
      const topics: Topic[] = [`actor:loop:${a}`, 'loops'];
      if (b === 'restarted' || b === 'escalated') topics.push('actor:overseer');
      // A window or a silence set, ended or removed (published as the monitor's).
      if (a === 'monitor' && (b === 'maintenance' || b === 'silence')) topics.push('maintenance');
      if (a === 'health' && b === 'summary') {
        topics.push('hosts');
        return { topics, summary: payload as unknown as SummaryReply };
      }
      const n = (k: string) => Number(payload[k]) || 0;
      const grew = a === 'sync' && b === 'synced' && n('created') + n('missing') + n('renewed') > 0;
      return { topics, ...(grew ? { reloadVms: true } : {}) };
    }
    default:
      return { topics: [] };
  }
}
