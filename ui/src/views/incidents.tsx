// Incidents: a timeline of the period, then the open ones, the acknowledged ones and the recently resolved ones;
// #/incidents/<id> is one incident with its timeline, the remediation requests it caused, acknowledge and resolve.
import { useState } from 'preact/hooks';
import { decisionShown } from '../../../protocol/decision-words';
import { messageOf } from '../api/client';
import { api } from '../api/endpoints';
import type { IncidentView } from '../api/types';
import { Badge, Empty, ErrorNote, Facts, Loading, When } from '../components/common';
import { IncidentTimeline } from '../components/incident-timeline';
import { SilenceForm } from '../components/silence-form';
import { useLoad } from '../live/hooks';
import { href, inspectHref } from '../router';
import { atLeast, useSession } from '../session';

const PERIODS = [
  ['1 hour', 3_600_000],
  ['24 hours', 86_400_000],
  ['7 days', 7 * 86_400_000],
] as const;

export function IncidentsView({ id }: { id: string | undefined }) {
  if (id) return <IncidentDetailView id={id} />;
  return <IncidentList />;
}

function IncidentList() {
  const [chosen, setPeriod] = useState<number | undefined>(undefined);
  const loaded = useLoad(
    async (signal) => {
      const [unresolved, resolved] = await Promise.all([
        api.incidents({ state: 'unresolved', limit: 1000 }, signal),
        api.incidents({ state: 'resolved', limit: 100 }, signal),
      ]);
      return { unresolved: unresolved.items, resolved: resolved.items, at: Date.now() };
    },
    [],
    { topics: ['incidents'], throttleMs: 1000, pollMs: 30_000 },
  );
  const data = loaded.data;
  const open = data?.unresolved.filter((i) => !i.acknowledged) ?? [];
  const acked = data?.unresolved.filter((i) => i.acknowledged) ?? [];
  // Unless one is chosen: the shortest period that holds every incident not resolved and the newest resolved ones.
  const oldest = Math.min(...(data ? [...data.unresolved, ...data.resolved.slice(0, 20)].map((i) => i.openedAt) : []));
  const period = chosen ?? PERIODS.find(([, ms]) => data !== undefined && data.at - ms <= oldest)?.[1] ?? PERIODS[2][1];
  return (
    <>
      <h1>Incidents</h1>
      <ErrorNote error={loaded.error} />
      {!data ? (
        <Loading what="incidents" />
      ) : (
        <>
          <section aria-labelledby="tl-h">
            <h2 id="tl-h">Timeline</h2>
            <div class="field inline-field">
              <label for="tl-period">Period</label>
              <select
                id="tl-period"
                value={String(period)}
                onChange={(e) => setPeriod(Number((e.target as HTMLSelectElement).value))}
              >
                {PERIODS.map(([label, ms]) => (
                  <option key={ms} value={String(ms)}>
                    last {label}
                  </option>
                ))}
              </select>
            </div>
            <IncidentTimeline incidents={[...data.unresolved, ...data.resolved]} from={data.at - period} to={data.at} />
          </section>
          <IncidentTable title="Open" id="open-h" items={open} empty="No open incident." />
          <IncidentTable title="Acknowledged" id="acked-h" items={acked} empty="No acknowledged incident." />
          <IncidentTable
            title="Resolved (newest 100)"
            id="resolved-h"
            items={data.resolved}
            empty="None resolved yet."
          />
        </>
      )}
    </>
  );
}

function IncidentTable({
  title,
  id,
  items,
  empty,
}: {
  title: string;
  id: string;
  items: IncidentView[];
  empty: string;
}) {
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>
        {title} ({items.length})
      </h2>
      {items.length === 0 ? (
        <Empty>{empty}</Empty>
      ) : (
        <table class="list">
          <thead>
            <tr>
              <th scope="col">Severity</th>
              <th scope="col">Kind</th>
              <th scope="col">About</th>
              <th scope="col">State</th>
              <th scope="col">Detail</th>
              <th scope="col">Opened</th>
              <th scope="col">Seen</th>
            </tr>
          </thead>
          <tbody>
            {items.map((i) => (
              <tr key={i.id} data-testid={`incident-row-${i.id}`} data-state={i.state}>
                <td>
                  <Badge value={i.severity} />
                </td>
                <td>
                  <a href={href('incidents', i.id)}>{i.kind}</a>
                </td>
                <td>{i.guest ? <a href={href('vm', ...i.guest.split('/'))}>{i.guest}</a> : i.subject}</td>
                <td>
                  <Badge value={i.state} />
                  {i.acknowledged ? ` ack. by ${i.acknowledged.name ?? i.acknowledged.by}` : ''}
                </td>
                <td>{i.detail}</td>
                <td>
                  <When at={i.openedAt} />
                </td>
                <td>{i.occurrences}×</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function IncidentDetailView({ id }: { id: string }) {
  const { principal } = useSession();
  const loaded = useLoad((signal) => api.incident(id, signal), [id], {
    topics: [`actor:incident:${id}`],
    throttleMs: 500,
  });
  const [note, setNote] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const i = loaded.data;
  if (!i) {
    return (
      <>
        <h1>Incident</h1>
        {loaded.loading ? <Loading what="the incident" /> : <ErrorNote error={loaded.error} />}
      </>
    );
  }
  const act = async (what: 'ack' | 'resolve') => {
    setBusy(true);
    setError(undefined);
    try {
      await api.incidentAct(i.id, what, note.trim() || undefined);
      setNote('');
      loaded.reload();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  const canAct = atLeast(principal.role, 'operator') && i.state !== 'resolved';
  // A guest's incident kind can be silenced on it, also once resolved (a condition that keeps coming back).
  const silenceable = atLeast(principal.role, 'operator') && i.guest !== undefined && /^(vm|guest)-/.test(i.kind);
  return (
    <>
      <h1>
        Incident: {i.kind} <span class="subtle">{i.guest ?? i.subject}</span>
      </h1>
      <p class="lead">
        <Badge value={i.severity} />{' '}
        <span data-testid="incident-state" data-state={i.state}>
          <Badge value={i.state} />
        </span>{' '}
        {i.acknowledged ? <Badge value="idle" label="acknowledged" /> : null} ·{' '}
        <a href={inspectHref(`incident:${i.id}`)}>its statechart in the inspector</a>
      </p>
      <p>{i.detail}</p>
      <Facts
        items={[
          ['About', i.guest ? <a href={href('vm', ...i.guest.split('/'))}>{i.subject}</a> : i.subject],
          ['Opened', <When key="o" at={i.openedAt} />],
          ['Last seen', <When key="l" at={i.lastSeenAt} />],
          ['Occurrences', String(i.occurrences)],
          ['Remediation attempts', String(i.remediationAttempts)],
          [
            'Acknowledged',
            i.acknowledged
              ? `by ${i.acknowledged.name ?? i.acknowledged.by}${i.acknowledged.note ? `: “${i.acknowledged.note}”` : ''}`
              : '—',
          ],
          ['Resolved', i.resolvedAt ? <When key="r" at={i.resolvedAt} /> : '—'],
          ['Outcome', i.outcome ?? '—'],
          ['Cause', i.cause ?? '—'],
        ]}
      />
      {canAct ? (
        <section aria-labelledby="incident-act-h" class="actions">
          <h2 id="incident-act-h">Your word on it</h2>
          <label for="incident-note">Note (kept in the timeline)</label>
          <input
            id="incident-note"
            value={note}
            maxLength={1000}
            onInput={(e) => setNote((e.target as HTMLInputElement).value)}
          />
          <div class="buttons">
            {!i.acknowledged ? (
              <button type="button" data-testid="incident-ack" disabled={busy} onClick={() => void act('ack')}>
                Acknowledge
              </button>
            ) : null}
            <button type="button" data-testid="incident-resolve" disabled={busy} onClick={() => void act('resolve')}>
              Resolve
            </button>
          </div>
          <ErrorNote error={error} />
        </section>
      ) : null}
      {silenceable && i.guest ? <SilenceForm kind={i.kind} guest={i.guest} /> : null}
      <section aria-labelledby="itl-h">
        <h2 id="itl-h">Timeline</h2>
        <ol class="history" data-testid="incident-timeline-list">
          {i.timeline.map((t, n) => (
            <li key={`${t.at}-${n}`}>
              <When at={t.at} />{' '}
              <Badge value={t.ok === false ? 'failed' : t.event === 'resolved' ? 'resolved' : 'info'} label={t.event} />{' '}
              {t.detail}
              {t.requestId ? (
                <>
                  {' '}
                  (request <a href={href('requests', t.requestId)}>{t.requestId.slice(0, 8)}</a>)
                </>
              ) : null}
              {t.byName || t.by ? ` — ${t.byName ?? t.by}` : ''}
            </li>
          ))}
        </ol>
      </section>
      <section aria-labelledby="ireq-h">
        <h2 id="ireq-h">Remediation requests</h2>
        {i.requests.length === 0 ? (
          <Empty>Overseer made no request for it.</Empty>
        ) : (
          <table class="list">
            <thead>
              <tr>
                <th scope="col">Request</th>
                <th scope="col">Action</th>
                <th scope="col">Status</th>
                <th scope="col">Decision</th>
                <th scope="col">Why / error</th>
              </tr>
            </thead>
            <tbody>
              {i.requests.map((r) => (
                <tr key={r.id}>
                  <td>
                    <a href={href('requests', r.id)}>{r.id.slice(0, 8)}</a>
                  </td>
                  <td>{r.action}</td>
                  <td>
                    <Badge value={r.status} />
                  </td>
                  <td>{r.decision ? <Badge value={decisionShown(r) ?? r.decision} /> : '—'}</td>
                  <td>{[...r.reasons, ...(r.error ? [r.error] : [])].join('; ') || '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
    </>
  );
}
