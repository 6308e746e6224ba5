// incidents, incident <id>, ack <id>, resolve <id>: what Overseer found, what it did about it, and a person's word.
import type { IncidentDetail, IncidentListReply, IncidentView } from '../../protocol';
import { INCIDENT_STATE_FILTERS } from '../../protocol';
import { UsageError } from '../errors';
import { EXIT } from '../exit-codes';
import { json, keyValues, table, time } from '../format';
import { id, int, oneOf, str } from './args';
import type { Command } from './types';

const GUEST = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\/[0-9]{1,9}$/;

function guest(value: string | undefined): string | undefined {
  if (value !== undefined && !GUEST.test(value)) {
    throw new UsageError(`--guest must be <cluster>/<vmid>, e.g. lab/101 (got '${value}')`);
  }
  return value;
}

const who = (p: { by: string; name?: string | undefined }): string => p.name ?? p.by;

export const incidentsCommand: Command = {
  name: 'incidents',
  usage: `[--state ${INCIDENT_STATE_FILTERS.join('|')}] [--kind k] [--guest <cluster>/<vmid>] [--limit n] [--offset n]`,
  summary: 'List incidents, newest first',
  args: 0,
  options: {
    state: { type: 'string' },
    kind: { type: 'string' },
    guest: { type: 'string' },
    limit: { type: 'string' },
    offset: { type: 'string' },
  },
  async run(ctx) {
    const page = await ctx.client.get<IncidentListReply>('/v1/incidents', {
      state: oneOf(ctx.values, 'state', INCIDENT_STATE_FILTERS),
      kind: str(ctx.values, 'kind'),
      guest: guest(str(ctx.values, 'guest')),
      limit: int(ctx.values, 'limit', 1),
      offset: int(ctx.values, 'offset', 0),
    });
    if (ctx.json) {
      ctx.out(json(page));
      return EXIT.ok;
    }
    ctx.out(
      table(
        ['id', 'severity', 'state', 'kind', 'subject', 'opened', 'ack', 'detail'],
        page.items.map((i) => [
          i.id,
          i.severity,
          i.state,
          i.kind,
          i.subject,
          time(i.openedAt),
          i.acknowledged ? who(i.acknowledged) : '',
          i.detail,
        ]),
      ),
    );
    const shown = page.offset + page.items.length;
    if (page.items.length < page.total) {
      const more = shown < page.total ? ` (more: --offset ${shown})` : '';
      ctx.err(`(${page.items.length} of ${page.total} incidents shown${more})\n`);
    }
    return EXIT.ok;
  },
};

export function renderIncident(i: IncidentDetail): string {
  const head = keyValues([
    ['incident', i.id],
    ['kind', i.kind],
    ['subject', i.subject],
    ['severity', i.severity],
    ['state', i.state],
    ['detail', i.detail],
    ['opened', time(i.openedAt)],
    ['last seen', `${time(i.lastSeenAt)} (${i.occurrences} time${i.occurrences === 1 ? '' : 's'})`],
    ['remediations', i.remediationAttempts],
    ['acknowledged', i.acknowledged ? `by ${who(i.acknowledged)} at ${time(i.acknowledged.at)}` : undefined],
    ['resolved', i.resolvedAt !== undefined ? time(i.resolvedAt) : undefined],
    ['outcome', i.outcome],
    ['cause', i.cause],
  ]);
  const timeline = table(
    ['time', 'event', 'by', 'detail'],
    i.timeline.map((e) => [time(e.at), e.event, e.byName ?? e.by, e.detail]),
  );
  const requests =
    i.requests.length === 0
      ? ''
      : `\n${table(
          ['request', 'action', 'target', 'status', 'decision', 'error'],
          i.requests.map((r) => [
            r.id,
            r.action,
            r.target.vmid !== undefined ? `${r.target.cluster}/${r.target.vmid}` : r.target.cluster,
            r.status,
            r.decision,
            r.error,
          ]),
        )}`;
  return `${head}\n${timeline}${requests}`;
}

export const incidentCommand: Command = {
  name: 'incident',
  usage: '<id>',
  summary: 'Show one incident: its timeline and the requests it caused',
  args: 1,
  async run(ctx) {
    const incidentId = id(ctx.positionals[0], 'incident');
    const incident = await ctx.client.get<IncidentDetail>(`/v1/incidents/${incidentId}`);
    ctx.out(ctx.json ? json(incident) : renderIncident(incident));
    return EXIT.ok;
  },
};

const act = (word: 'ack' | 'resolve', summary: string): Command => ({
  name: word,
  usage: '<incident id> [--note text]',
  summary,
  args: 1,
  options: { note: { type: 'string' } },
  async run(ctx) {
    const incidentId = id(ctx.positionals[0], 'incident');
    const note = str(ctx.values, 'note');
    if (note === '') throw new UsageError('--note must not be empty');
    const incident = await ctx.client.post<IncidentView>(
      `/v1/incidents/${incidentId}/${word}`,
      note !== undefined ? { note } : {},
    );
    if (ctx.json) ctx.out(json(incident));
    else if (word === 'ack') {
      const by = incident.acknowledged ? ` by ${who(incident.acknowledged)}` : '';
      ctx.out(`incident ${incident.id} acknowledged${by} (${incident.state}); it pages no one until resolved\n`);
    } else ctx.out(`incident ${incident.id} ${incident.outcome ?? 'resolved'}\n`);
    return EXIT.ok;
  },
});

export const incidentActCommands: Command[] = [
  act('ack', 'Acknowledge an incident (once): it pages no one until it is resolved'),
  act('resolve', 'Resolve an incident; a condition still present opens a new one'),
];
