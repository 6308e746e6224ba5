// lab approve|deny|destroy|snapshot|revert NAME: commands on one lab, as the caller. Each prints the lab as the
// command left it (exit 0); --wait (destroy, snapshot, revert, approve) follows it until it rests. A command the lab's
// state does not allow is refused by the core (exit 2 with its reason); an unknown lab exits 8.
import type { LabView } from '../../protocol';
import { LabRefPayloadSchema, LabSnapshotPayloadSchema } from '../../protocol';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { json } from '../format';
import { cluster, str } from './args';
import { labLine } from './lab-output';
import { followLab, WAIT_DETAILS, waitOptions } from './lab-watch';
import type { Command, CommandContext } from './types';

/** A lab's name, checked as the gateway checks it. */
export function labName(value: string | undefined): string {
  const parsed = LabRefPayloadSchema.shape.name.safeParse(value ?? '');
  if (!parsed.success)
    throw new UsageError(`expected a lab name (got '${value ?? ''}'): ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** A snapshot's name, checked as the gateway checks it. */
export function snapshotName(value: string | undefined): string {
  const parsed = LabSnapshotPayloadSchema.shape.snapshot.safeParse(value ?? '');
  if (!parsed.success) {
    throw new UsageError(`expected a snapshot name (got '${value ?? ''}'): ${parsed.error.issues[0]?.message}`);
  }
  return parsed.data;
}

/** --cluster, checked; absent: the lab of that name wherever it runs. */
export function clusterOption(ctx: CommandContext): string | undefined {
  const value = str(ctx.values, 'cluster');
  return value === undefined ? undefined : cluster(value);
}

interface LabAct {
  word: 'approve' | 'deny' | 'destroy' | 'snapshot' | 'revert';
  summary: string;
  /** Where --wait stops with exit 0; absent: no --wait. */
  goal?: readonly string[];
  details: string;
}

const ACTS: LabAct[] = [
  {
    word: 'approve',
    summary: 'Approve a lab awaiting approval (not your own): its deploy begins',
    goal: ['ready'],
    details: 'The person who applied a lab cannot approve it. --reason is kept with the approval.',
  },
  {
    word: 'deny',
    summary: 'Deny a lab awaiting approval (your own: cancel it)',
    details: 'Another person (or an admin) denies it; the person who applied it cancels it.',
  },
  {
    word: 'destroy',
    summary: 'Tear a lab down: everything it made, newest first, and nothing else',
    goal: ['destroyed'],
    details: 'A lab that is ready or failed can be destroyed; the core asks for the admin role.',
  },
  {
    word: 'snapshot',
    summary: 'Snapshot every member of a ready lab under one name',
    goal: ['ready'],
    details: 'A snapshot name is a letter, then letters, digits, _ and - (at most 40).',
  },
  {
    word: 'revert',
    summary: 'Roll every member of a ready lab back to one of its whole-lab snapshots',
    goal: ['ready'],
    details: "The snapshot must be one of the lab's ('overseer lab status' lists them).",
  },
];

const labAct = (act: LabAct): Command => {
  const snapshots = act.word === 'snapshot' || act.word === 'revert';
  const reasons = act.word === 'approve' || act.word === 'deny';
  return {
    name: `lab ${act.word}`,
    usage: `<name>${snapshots ? ' <snapshot>' : ''} [--cluster c]${reasons ? ' [--reason text]' : ''}${act.goal ? ' [--wait]' : ''}`,
    summary: act.summary,
    args: snapshots ? 2 : 1,
    options: {
      cluster: { type: 'string' },
      ...(reasons ? { reason: { type: 'string' } } : {}),
      ...(act.goal ? waitOptions : {}),
    },
    details: act.goal ? `${act.details}\n\n${WAIT_DETAILS}` : act.details,
    async run(ctx) {
      const name = labName(ctx.positionals[0]);
      const reason = str(ctx.values, 'reason');
      if (reason === '') throw new UsageError('--reason must not be empty');
      const clusterName = clusterOption(ctx);
      const body = {
        ...(clusterName !== undefined ? { cluster: clusterName } : {}),
        ...(reason !== undefined ? { reason } : {}),
        ...(snapshots ? { snapshot: snapshotName(ctx.positionals[1]) } : {}),
      };
      const lab = await ctx.client.post<LabView>(`/v1/labs/${encodeURIComponent(name)}/${act.word}`, body);
      if (act.goal && ctx.values.wait) return followLab(ctx, lab, act.goal);
      ctx.out(ctx.json ? json(lab) : `${labLine(lab)}\n`);
      return EXIT.ok;
    },
  };
};

export const labActCommands: Command[] = ACTS.map(labAct);
