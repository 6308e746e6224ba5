// The audit log (admins only; GET /v1/audit): the chain's verification first, then the rows newest first,
// filterable by kind and actor (exact, as the API matches them). Without a filter it pages back 200 rows at a time
// from the head; with one it reads the matching rows from the start (up to 5,000) and shows the newest.
import { useState } from 'preact/hooks';
import { api } from '../api/endpoints';
import type { AuditQueryReply, AuditRowView, AuditVerificationView } from '../api/types';
import { Badge, Empty, ErrorNote, Loading, When } from '../components/common';
import { useLoad } from '../live/hooks';
import { atLeast, useSession } from '../session';

const PAGE = 200;
const FILTERED_PAGES = 5;

interface AuditPage {
  rows: AuditRowView[];
  verification: AuditVerificationView;
  /** Rows before the oldest shown exist (unfiltered: its seq; filtered: the 5,000 limit was reached). */
  olderFrom: number | undefined;
  truncated: boolean;
}

async function loadAudit(
  filter: { kind: string; actor: string },
  before: number | undefined,
  signal: AbortSignal,
): Promise<AuditPage> {
  const kind = filter.kind.trim() || undefined;
  const actor = filter.actor.trim() || undefined;
  if (!kind && !actor) {
    const head = before ?? (await api.audit({ limit: 1 }, signal)).verification.head.seq;
    const afterSeq = Math.max(0, head - PAGE);
    const page = await api.audit({ afterSeq, limit: PAGE }, signal);
    const rows = page.items.filter((r) => r.seq <= head).reverse();
    return { rows, verification: page.verification, olderFrom: afterSeq > 0 ? afterSeq : undefined, truncated: false };
  }
  let afterSeq: number | undefined;
  let last: AuditQueryReply | undefined;
  const rows: AuditRowView[] = [];
  for (let i = 0; i < FILTERED_PAGES; i++) {
    last = await api.audit({ ...(afterSeq !== undefined ? { afterSeq } : {}), limit: 1000, kind, actor }, signal);
    rows.push(...last.items);
    if (last.next === null) break;
    afterSeq = last.next;
  }
  return {
    rows: rows.reverse(),
    verification: last!.verification,
    olderFrom: undefined,
    truncated: last?.next !== null,
  };
}

export function AuditView() {
  const { principal } = useSession();
  if (!atLeast(principal.role, 'admin')) {
    return (
      <>
        <h1>Audit log</h1>
        <p class="callout tone-warn">The audit log is for admins; your role is {principal.role}.</p>
      </>
    );
  }
  return <AuditLog />;
}

function AuditLog() {
  const [draft, setDraft] = useState({ kind: '', actor: '' });
  const [filter, setFilter] = useState({ kind: '', actor: '' });
  const [before, setBefore] = useState<number | undefined>(undefined);
  const loaded = useLoad((signal) => loadAudit(filter, before, signal), [filter.kind, filter.actor, before], {
    pollMs: before === undefined ? 15_000 : undefined,
  });
  const data = loaded.data;
  return (
    <>
      <h1>Audit log</h1>
      {data ? <Verification v={data.verification} /> : null}
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          setBefore(undefined);
          setFilter({ ...draft });
        }}
      >
        <div class="field">
          <label for="audit-kind">Kind</label>
          <input
            id="audit-kind"
            data-testid="audit-kind"
            placeholder="request.approve"
            value={draft.kind}
            onInput={(e) => setDraft({ ...draft, kind: (e.target as HTMLInputElement).value })}
          />
        </div>
        <div class="field">
          <label for="audit-actor">Actor</label>
          <input
            id="audit-actor"
            data-testid="audit-actor"
            placeholder="overseer"
            value={draft.actor}
            onInput={(e) => setDraft({ ...draft, actor: (e.target as HTMLInputElement).value })}
          />
        </div>
        <button type="submit" class="primary">
          Filter
        </button>
        <button type="button" class="quiet" onClick={() => loaded.reload()}>
          Refresh
        </button>
      </form>
      <ErrorNote error={loaded.error} />
      {!data ? (
        <Loading what="the audit log" />
      ) : data.rows.length === 0 ? (
        <Empty>No row matches.</Empty>
      ) : (
        <>
          <table class="list audit" data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">When</th>
                <th scope="col">Actor</th>
                <th scope="col">Kind</th>
                <th scope="col">Data</th>
              </tr>
            </thead>
            <tbody>
              {data.rows.map((r) => (
                <tr key={r.seq} data-testid={`audit-row-${r.seq}`}>
                  <td class="num">{r.seq}</td>
                  <td>
                    <When at={r.at} />
                  </td>
                  <td>{r.actor}</td>
                  <td>
                    <code>{r.kind}</code>
                  </td>
                  <td class="data">
                    <AuditData data={r.data} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {data.truncated ? <p class="muted">Only the newest of the first 5,000 matching rows are shown.</p> : null}
          <fieldset class="pager">
            <legend class="visually-hidden">Pages</legend>
            <button type="button" disabled={before === undefined} onClick={() => setBefore(undefined)}>
              Newest
            </button>
            <button type="button" disabled={data.olderFrom === undefined} onClick={() => setBefore(data.olderFrom)}>
              Older
            </button>
          </fieldset>
        </>
      )}
    </>
  );
}

function AuditData({ data }: { data: unknown }) {
  const text = data === undefined || data === null ? '' : JSON.stringify(data);
  if (text.length <= 160) return <code>{text}</code>;
  return (
    <details>
      <summary>
        <code>{text.slice(0, 120)}…</code>
      </summary>
      <pre>{JSON.stringify(data, null, 2)}</pre>
    </details>
  );
}

function Verification({ v }: { v: AuditVerificationView }) {
  return (
    <section
      aria-labelledby="chain-h"
      class={`callout ${v.ok ? 'tone-ok' : 'tone-bad'}`}
      data-testid="audit-verification"
      data-ok={String(v.ok)}
    >
      <h2 id="chain-h">
        The chain: <Badge value={v.ok ? 'pass' : 'failed'} label={v.ok ? 'intact' : 'broken'} />
      </h2>
      {v.ok ? (
        <p>
          {v.rows} rows verified up to #{v.head.seq}
          {v.keyedFrom !== null ? `, keyed from #${v.keyedFrom}` : ', not keyed'}
          {v.checkpoint ? (
            <>
              ; matches the checkpoint at #{v.checkpoint.seq} (<When at={v.checkpoint.at} />)
            </>
          ) : (
            '; no checkpoint yet'
          )}
          .
        </p>
      ) : (
        <p>
          <strong>{v.problem?.kind ?? 'problem'}</strong> at row #{v.problem?.row}: {v.problem?.sentence}
          {v.problem?.recordedAt ? (
            <>
              {' '}
              (found <When at={v.problem.recordedAt} />)
            </>
          ) : null}
        </p>
      )}
      {v.note ? <p class="muted">{v.note}</p> : null}
    </section>
  );
}
