// maintenance start|list|end and silence add|list|remove: what Overseer must leave alone for a while. A window covers
// a guest, a node or a tag; a silence one incident kind on one guest. Both are audited as the caller and run out.
import type {
  MaintenanceListReply,
  MaintenanceScope,
  MaintenanceView,
  SilenceListReply,
  SilenceView,
} from '../../protocol';
import { MAINTENANCE_SCOPES, SCOPE_TARGETS, SILENCEABLE_KINDS } from '../../protocol';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { json, table, time } from '../format';
import { id, int, required, str } from './args';
import type { Command, CommandContext } from './types';

const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86_400 };

/** `2h`, `90m`, `1h30m`, `1d`, `45s` or plain seconds → seconds. */
export function parseDuration(value: string, name = 'for'): number {
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v);
  const parts = [...v.matchAll(/(\d+)([smhd])/g)];
  if (parts.length === 0 || parts.map((m) => m[0]).join('') !== v) {
    throw new UsageError(`--${name} must be a duration such as 2h, 90m, 1h30m or 1d (got '${value}')`);
  }
  return parts.reduce((sum, m) => sum + Number(m[1]) * (UNIT_SECONDS[m[2] as string] ?? 0), 0);
}

/** An ISO time (`2025-01-15T14:00Z`) → epoch ms. */
function isoOption(ctx: CommandContext, name: string): number | undefined {
  const v = str(ctx.values, name);
  if (v === undefined) return undefined;
  const ms = /^\d{4}-\d{2}-\d{2}T/.test(v) ? Date.parse(v) : Number.NaN;
  if (Number.isNaN(ms)) throw new UsageError(`--${name} must be an ISO time such as 2025-01-15T14:00Z (got '${v}')`);
  return ms;
}

/** How long: --for <duration> or --until <time>, from --from (default now); and --reason. */
function period(ctx: CommandContext) {
  const duration = str(ctx.values, 'for');
  const until = isoOption(ctx, 'until');
  if ((duration === undefined) === (until === undefined)) throw new UsageError('give one of --for and --until');
  const from = isoOption(ctx, 'from');
  const reason = required(ctx.values, 'reason');
  if (reason.trim() === '') throw new UsageError('--reason must not be empty');
  return {
    ...(duration !== undefined ? { durationSeconds: parseDuration(duration) } : {}),
    ...(until !== undefined ? { until } : {}),
    ...(from !== undefined ? { from } : {}),
    reason,
  };
}

const PERIOD_OPTIONS = {
  for: { type: 'string' },
  until: { type: 'string' },
  from: { type: 'string' },
  reason: { type: 'string' },
} as const;

const LIST_OPTIONS = { all: { type: 'boolean' }, limit: { type: 'string' }, offset: { type: 'string' } } as const;

const who = (e: { by: string; byName?: string | undefined }) => e.byName ?? e.by;

/** `lab/101` alone is a guest; `node lab/pve2`, `tag web`, `guest lab/101` name the scope. */
function scopeAndTarget(positionals: string[]): { scope: MaintenanceScope; target: string } {
  const [first = '', second] = positionals;
  const scope = (second === undefined ? 'guest' : first) as MaintenanceScope;
  const target = second ?? first;
  if (!MAINTENANCE_SCOPES.includes(scope)) {
    throw new UsageError(`expected guest, node or tag before the target (got '${first}')`);
  }
  if (!SCOPE_TARGETS[scope].pattern.test(target)) {
    throw new UsageError(`a ${scope} is ${SCOPE_TARGETS[scope].shape} (got '${target}')`);
  }
  return { scope, target };
}

function listPage(ctx: CommandContext) {
  return {
    ...(ctx.values.all === true ? { all: 'true' } : {}),
    limit: int(ctx.values, 'limit', 1),
    offset: int(ctx.values, 'offset', 0),
  };
}

function more(ctx: CommandContext, page: { items: unknown[]; total: number; offset: number }, noun: string) {
  if (page.items.length >= page.total) return;
  const shown = page.offset + page.items.length;
  const next = shown < page.total ? ` (more: --offset ${shown})` : '';
  ctx.err(`(${page.items.length} of ${page.total} ${noun} shown${next})\n`);
}

const PERIOD_DETAILS = `--for 2h | 90m | 1h30m | 1d (at most 30 days), or --until <ISO time>; --from <ISO time> schedules it.`;

export const maintenanceStartCommand: Command = {
  name: 'maintenance start',
  usage: '[guest] <cluster>/<vmid> | node <cluster>/<node> | tag <tag>  --for <duration> --reason <text>',
  summary: 'Put a guest, a node or a tag into maintenance: no remediation, no pages, the gate says so',
  args: 1,
  maxArgs: 2,
  options: PERIOD_OPTIONS,
  details: `${PERIOD_DETAILS}
While it lasts, Overseer records incidents of what it covers but neither remediates them nor pages anyone; its own
requests are denied and a person's need a second person's approval, the gate naming the window.`,
  async run(ctx) {
    const body = { ...scopeAndTarget(ctx.positionals), ...period(ctx) };
    const w = await ctx.client.post<MaintenanceView>('/v1/maintenance', body);
    if (ctx.json) ctx.out(json(w));
    else {
      const when = w.state === 'scheduled' ? `from ${time(w.from)} until ${time(w.until)}` : `until ${time(w.until)}`;
      ctx.out(`maintenance ${w.id}: ${w.scope} ${w.target} ${when} (${w.reason})\n`);
    }
    return EXIT.ok;
  },
};

export const maintenanceListCommand: Command = {
  name: 'maintenance list',
  usage: '[--all] [--limit n] [--offset n]',
  summary: 'Maintenance windows: active and scheduled (--all: also ended and run out)',
  args: 0,
  options: LIST_OPTIONS,
  async run(ctx) {
    const page = await ctx.client.get<MaintenanceListReply>('/v1/maintenance', listPage(ctx));
    if (ctx.json) {
      ctx.out(json(page));
      return EXIT.ok;
    }
    ctx.out(
      table(
        ['id', 'scope', 'target', 'state', 'from', 'until', 'by', 'reason'],
        page.items.map((w) => [w.id, w.scope, w.target, w.state, time(w.from), time(w.until), who(w), w.reason]),
      ),
    );
    more(ctx, page, 'windows');
    return EXIT.ok;
  },
};

export const maintenanceEndCommand: Command = {
  name: 'maintenance end',
  usage: '<id>',
  summary: 'End a maintenance window now',
  args: 1,
  async run(ctx) {
    const windowId = id(ctx.positionals[0], 'maintenance window');
    const w = await ctx.client.delete<MaintenanceView>(`/v1/maintenance/${windowId}`);
    ctx.out(ctx.json ? json(w) : `maintenance ${w.id} ended: ${w.scope} ${w.target} is watched over again\n`);
    return EXIT.ok;
  },
};

export const silenceAddCommand: Command = {
  name: 'silence add',
  usage: '<incident kind> <cluster>/<vmid> --for <duration> --reason <text>',
  summary: 'Silence one incident kind on one guest: recorded, not remediated, not paged',
  args: 2,
  options: PERIOD_OPTIONS,
  details: `${PERIOD_DETAILS}\nKinds: ${SILENCEABLE_KINDS.join(', ')}.`,
  async run(ctx) {
    const [kind = '', guest = ''] = ctx.positionals;
    if (!(SILENCEABLE_KINDS as readonly string[]).includes(kind)) {
      throw new UsageError(`unknown incident kind '${kind}'; a silence takes one of ${SILENCEABLE_KINDS.join(', ')}`);
    }
    if (!SCOPE_TARGETS.guest.pattern.test(guest)) {
      throw new UsageError(`expected <cluster>/<vmid>, e.g. lab/101 (got '${guest}')`);
    }
    const s = await ctx.client.post<SilenceView>('/v1/silences', { kind, guest, ...period(ctx) });
    ctx.out(ctx.json ? json(s) : `silence ${s.id}: ${s.kind} on ${s.guest} until ${time(s.until)} (${s.reason})\n`);
    return EXIT.ok;
  },
};

export const silenceListCommand: Command = {
  name: 'silence list',
  usage: '[--all] [--limit n] [--offset n]',
  summary: 'Silences: active and scheduled (--all: also removed and run out)',
  args: 0,
  options: LIST_OPTIONS,
  async run(ctx) {
    const page = await ctx.client.get<SilenceListReply>('/v1/silences', listPage(ctx));
    if (ctx.json) {
      ctx.out(json(page));
      return EXIT.ok;
    }
    ctx.out(
      table(
        ['id', 'kind', 'guest', 'state', 'from', 'until', 'by', 'reason'],
        page.items.map((s) => [s.id, s.kind, s.guest, s.state, time(s.from), time(s.until), who(s), s.reason]),
      ),
    );
    more(ctx, page, 'silences');
    return EXIT.ok;
  },
};

export const silenceRemoveCommand: Command = {
  name: 'silence remove',
  usage: '<id>',
  summary: 'Remove a silence now',
  args: 1,
  async run(ctx) {
    const silenceId = id(ctx.positionals[0], 'silence');
    const s = await ctx.client.delete<SilenceView>(`/v1/silences/${silenceId}`);
    ctx.out(ctx.json ? json(s) : `silence ${s.id} removed: ${s.kind} on ${s.guest} is handled as usual again\n`);
    return EXIT.ok;
  },
};

export const maintenanceCommands: Command[] = [
  maintenanceStartCommand,
  maintenanceListCommand,
  maintenanceEndCommand,
  silenceAddCommand,
  silenceListCommand,
  silenceRemoveCommand,
];
