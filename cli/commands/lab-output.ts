// How labs are shown: one lab in full (lab status), a list of them (lab list), its members as a table, a one-line
// summary, and what a lab's status means for the exit code and the reason line on stderr.
import type { LabListReply, LabMemberView, LabView } from '../../protocol';
import type { ExitCode } from '../exit-codes';
import { EXIT } from '../exit-codes';
import type { Cell } from '../format';
import { keyValues, table, time } from '../format';
import { checksTable } from './request-output';

/** A lab rests in these statuses until someone acts (or its TTL ends): --wait stops there. */
export const RESTING_LAB_STATUSES: ReadonlySet<string> = new Set([
  'ready',
  'failed',
  'rolled_back',
  'destroyed',
  'denied',
  'cancelled',
  'expired',
  'awaiting_approval',
]);

/** `awaiting_approval` → `awaiting approval`. */
export const words = (status: string): string => status.replaceAll('_', ' ');

/** `lab three-tier (lab): awaiting approval`. */
export const labLine = (lab: LabView): string => `lab ${lab.name} (${lab.cluster}): ${words(lab.status)}`;

/** `vmid 104 on pve1`, `vmid 104`, or nothing before the member has a VM. */
export function placement(m: Pick<LabMemberView, 'vmid' | 'node'>): string | undefined {
  if (m.vmid === undefined) return undefined;
  return m.node !== undefined ? `vmid ${m.vmid} on ${m.node}` : `vmid ${m.vmid}`;
}

/** NAME VM VMID NODE PHASE (and ERROR when a member has one). */
export function membersTable(members: readonly LabMemberView[]): string {
  const errors = members.some((m) => m.error !== undefined);
  const rows: Cell[][] = members.map((m) => [m.name, m.vm, m.vmid, m.node, m.phase, ...(errors ? [m.error] : [])]);
  return table(['name', 'vm', 'vmid', 'node', 'phase', ...(errors ? ['error'] : [])], rows);
}

/** `clone web-2: template broken is locked`. */
export const failureText = (f: NonNullable<LabView['failure']>): string =>
  `${f.step}${f.member !== undefined ? ` ${f.member}` : ''}: ${f.error}`;

const requesterText = (r: LabView['requester']): string =>
  r.name ? `${r.name} (token ${r.id}, ${r.role})` : `${r.id} (${r.role})`;

/** Everything `lab status` shows: status, decision and reasons, checks, members, failure, snapshots, expiry. */
export function renderLab(lab: LabView): string {
  const approved = lab.approvedBy;
  const head = keyValues([
    ['lab', lab.name],
    ['cluster', lab.cluster],
    ['status', words(lab.status)],
    ['generation', lab.generation],
    ['requester', requesterText(lab.requester)],
    ['decision', lab.decision !== undefined ? words(lab.decision) : undefined],
    ['reasons', lab.reasons.join('; ')],
    [
      'approved by',
      approved ? `${approved.id} at ${time(approved.at)}${approved.reason ? `: ${approved.reason}` : ''}` : undefined,
    ],
    ['failure', lab.failure ? failureText(lab.failure) : undefined],
    ['snapshots', lab.snapshots.map((s) => `${s.name} (${time(s.at)}, ${s.members.length} members)`).join(', ')],
    ['drift', lab.drift.map((d) => `${d.member} ${d.state} at ${time(d.at)}`).join(', ')],
    ['created', time(lab.createdAt)],
    ['updated', time(lab.updatedAt)],
    ['ended', time(lab.endedAt)],
    ['expires', time(lab.expiresAt)],
  ]);
  return [
    head,
    lab.checks.length > 0 ? `\n${checksTable(lab.checks)}` : '',
    lab.members.length > 0 ? `\n${membersTable(lab.members)}` : '',
    lab.plan.length > 0 ? `\nplan:\n${lab.plan.map((l) => `  ${l}`).join('\n')}\n` : '',
  ].join('');
}

/** NAME CLUSTER STATUS MEMBERS UPDATED; MEMBERS counts those not removed. */
export function labsTable(page: LabListReply): string {
  return table(
    ['name', 'cluster', 'status', 'members', 'updated'],
    page.items.map((l) => [
      l.name,
      l.cluster,
      l.status,
      l.members.filter((m) => m.phase !== 'removed').length,
      time(l.updatedAt),
    ]),
  );
}

/**
 * The exit code of a lab that rests in its status, when the command wanted it to end in one of `goal`: 0 there
 * (unless a ready lab records a failure: an apply rolled back, a snapshot that failed), else what the status means.
 */
export function labExitCode(lab: LabView, goal: readonly string[]): ExitCode {
  if (goal.includes(lab.status)) return lab.status === 'ready' && lab.failure ? EXIT.failed : EXIT.ok;
  switch (lab.status) {
    case 'awaiting_approval':
      return EXIT.awaitingApproval;
    case 'denied':
      return EXIT.denied;
    case 'cancelled':
    case 'expired':
    case 'destroyed':
      return EXIT.cancelled;
    default:
      return EXIT.failed;
  }
}

/** Why a lab did not end as wanted, for stderr; undefined when it did. */
export function labExplanation(lab: LabView, code: ExitCode): string | undefined {
  if (code === EXIT.ok) return undefined;
  const reasons = lab.reasons.length > 0 ? lab.reasons.join('; ') : undefined;
  if (lab.failure) return `${words(lab.status)}: ${failureText(lab.failure)}`;
  switch (lab.status) {
    case 'awaiting_approval':
      return `awaiting approval: ${reasons ?? 'someone else must approve'} (overseer lab approve ${lab.name})`;
    case 'denied':
      return `denied: ${reasons ?? 'no reason given'}`;
    default:
      return `${words(lab.status)}${reasons ? `: ${reasons}` : ''}`;
  }
}
