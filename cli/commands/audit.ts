// audit | audit verify (admin): the audit log, oldest first, and whether its hash chain is intact (checked by the
// core against the last checkpoint kept outside the database).
import type { AuditQueryReply, AuditVerificationView } from '../../protocol';
import { EXIT } from '../exit-codes';
import { json, keyValues, table, time } from '../format';
import { int, str } from './args';
import type { Command } from './types';

const DATA_WIDTH = 60;

const short = (value: unknown): string => {
  const text = JSON.stringify(value) ?? '';
  return text.length > DATA_WIDTH ? `${text.slice(0, DATA_WIDTH - 1)}…` : text;
};

/** One line: intact (rows, keyed from, checkpoint) or broken (row, kind, sentence). */
export function verificationLine(v: AuditVerificationView): string {
  if (v.problem) return `audit chain BROKEN at row ${v.problem.row} (${v.problem.kind}): ${v.problem.sentence}`;
  const keyed = v.keyedFrom === null ? 'not keyed' : `keyed from row ${v.keyedFrom}`;
  const checkpoint = v.checkpoint
    ? `last checkpoint at row ${v.checkpoint.seq} (${time(v.checkpoint.at)})`
    : 'no checkpoint compared';
  return `audit chain intact: ${v.rows} rows checked, ${keyed}, ${checkpoint}`;
}

export const auditCommand: Command = {
  name: 'audit',
  usage: '[--after <seq>] [--limit n] [--kind k] [--actor a]',
  summary: 'The audit log, oldest first, and whether its chain is intact',
  args: 0,
  options: {
    after: { type: 'string' },
    limit: { type: 'string' },
    kind: { type: 'string' },
    actor: { type: 'string' },
  },
  async run(ctx) {
    const page = await ctx.client.get<AuditQueryReply>('/v1/audit', {
      afterSeq: int(ctx.values, 'after', 0),
      limit: int(ctx.values, 'limit', 1),
      kind: str(ctx.values, 'kind'),
      actor: str(ctx.values, 'actor'),
    });
    if (ctx.json) {
      ctx.out(json(page));
      return EXIT.ok;
    }
    ctx.out(
      table(
        ['seq', 'time', 'actor', 'kind', 'data'],
        page.items.map((r) => [r.seq, time(r.at), r.actor, r.kind, short(r.data)]),
      ),
    );
    if (page.next !== null) ctx.err(`(more rows: --after ${page.next})\n`);
    ctx.err(`${verificationLine(page.verification)}\n`);
    if (page.verification.note) ctx.err(`(${page.verification.note})\n`);
    return EXIT.ok;
  },
};

export const auditVerifyCommand: Command = {
  name: 'audit verify',
  usage: '',
  summary: `Verify the audit chain (exit ${EXIT.auditBroken} when it is broken)`,
  args: 0,
  async run(ctx) {
    const { verification: v } = await ctx.client.get<AuditQueryReply>('/v1/audit', { limit: 1 });
    if (ctx.json) ctx.out(json(v));
    else {
      ctx.out(
        keyValues([
          ['chain', v.ok ? 'intact' : 'BROKEN'],
          ['rows checked', v.rows],
          ['keyed from', v.keyedFrom === null ? 'not keyed' : `row ${v.keyedFrom}`],
          ['last row', v.head.seq],
          ['checkpoint', v.checkpoint ? `row ${v.checkpoint.seq} at ${time(v.checkpoint.at)}` : undefined],
          ['problem', v.problem ? `row ${v.problem.row} (${v.problem.kind}): ${v.problem.sentence}` : undefined],
          ['note', v.note],
        ]),
      );
    }
    return v.ok ? EXIT.ok : EXIT.auditBroken;
  },
};
