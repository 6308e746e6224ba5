// How a bulk request's members and a dry run's decision are shown, and a request's target in words.
import type { BulkMemberView, Decision } from '../../protocol';
import { table } from '../format';

export interface DecisionAnswer {
  decision: Decision;
  reasons: string[];
  checks: { check: string; outcome: string; reason: string }[];
  /** A selector's or a drain's expansion: one request per member. */
  members?: BulkMemberView[] | undefined;
}

export interface DryRunAnswer extends DecisionAnswer {
  dryRun: true;
}

/** What a request is about: `stop lab/@tag:web,-105`. */
export interface RequestAbout {
  action: string;
  target: { cluster: string; vmid?: number | undefined; selector?: string | undefined; node?: string | undefined };
}

/** `lab/114`, `lab/@tag:web,-105`, `lab/pve2` (a node), or `lab` (a deploy). */
export const targetText = (t: RequestAbout['target']): string =>
  t.selector !== undefined
    ? `${t.cluster}/${t.selector}`
    : t.node !== undefined
      ? `${t.cluster}/${t.node}`
      : t.vmid === undefined
        ? t.cluster
        : `${t.cluster}/${t.vmid}`;

const paramsText = (params: Record<string, unknown>): string | undefined =>
  Object.keys(params).length > 0 ? JSON.stringify(params) : undefined;

/** `3 members:` and a table of them (each runs as its own request). */
export function membersText(cluster: string, members: readonly BulkMemberView[]): string {
  const rows = members.map((m) => [`${cluster}/${m.vmid}`, m.action, paramsText(m.params)]);
  const count = `${members.length} member${members.length === 1 ? '' : 's'}`;
  return `${count}:\n${table(['guest', 'action', 'params'], rows)}`;
}

const WOULD: Record<Decision, string> = {
  approved: 'would be approved',
  denied: 'would be denied',
  awaiting_approval: 'would await approval',
  nothing_to_do: 'would have nothing to do',
};

/** `dry run: stop lab/@tag:web would be denied: VM 114 is production: needs force`. */
export function dryRunLine(answer: DryRunAnswer, about: RequestAbout): string {
  const why = answer.reasons.length > 0 ? `: ${answer.reasons.join('; ')}` : '';
  return `dry run: ${about.action} ${targetText(about.target)} ${WOULD[answer.decision]}${why}\n`;
}
