// Requests: those awaiting approval first (each with the two-person rule, its checks and the knowledge base's
// warnings, approve / deny), then every request, newest first, filterable by status; #/requests/<id> is one.
import { useState } from 'preact/hooks';
import { REQUEST_STATUSES } from '../../../machines/types';
import { api } from '../api/endpoints';
import type { RequestStatus } from '../api/types';
import { Badge, Empty, ErrorNote, Loading, When } from '../components/common';
import { ChecksTable, KnowledgeWarnings } from '../components/gate-answer';
import { RequestList, TargetLink } from '../components/request-list';
import { useLoad } from '../live/hooks';
import { href } from '../router';
import { ApprovalControls, TwoPersonRule } from './approval';
import { RequestDetail } from './request-detail';

const PAGE = 50;

export function RequestsView({ id }: { id: string | undefined }) {
  if (id) return <RequestDetail id={id} />;
  return (
    <>
      <h1>Requests</h1>
      <Pending />
      <AllRequests />
    </>
  );
}

function Pending() {
  const loaded = useLoad((signal) => api.requests({ status: 'awaiting_approval', limit: 200 }, signal), [], {
    topics: ['requests'],
    throttleMs: 1000,
  });
  const items = loaded.data?.items;
  return (
    <section aria-labelledby="pending-h">
      <h2 id="pending-h">Awaiting approval{items ? ` (${loaded.data?.total ?? 0})` : ''}</h2>
      <ErrorNote error={loaded.error} />
      {items === undefined ? <Loading what="pending requests" /> : null}
      {items?.length === 0 ? <Empty>Nothing awaits approval.</Empty> : null}
      <ul class="pending">
        {items?.map((r) => (
          <li key={r.id} class="card" data-testid={`pending-${r.id}`}>
            <h3>
              <a href={href('requests', r.id)}>{r.action}</a> of <TargetLink request={r} />
              {r.force ? ' (forced)' : ''} <Badge value={r.status} />
            </h3>
            <p class="muted">
              Request {r.id.slice(0, 8)}, submitted <When at={r.submittedAt} />
            </p>
            <TwoPersonRule request={r} />
            {r.reasons.length > 0 ? (
              <ul class="reasons">
                {r.reasons.map((reason) => (
                  <li key={reason}>{reason}</li>
                ))}
              </ul>
            ) : null}
            <KnowledgeWarnings checks={r.checks} />
            <details>
              <summary>The gate’s {r.checks.length} checks</summary>
              <ChecksTable checks={r.checks} />
            </details>
            <ApprovalControls request={r} onDone={loaded.reload} />
          </li>
        ))}
      </ul>
    </section>
  );
}

function AllRequests() {
  const [status, setStatus] = useState<RequestStatus | ''>('');
  const [offset, setOffset] = useState(0);
  const loaded = useLoad(
    (signal) => api.requests({ ...(status ? { status } : {}), limit: PAGE, offset }, signal),
    [status, offset],
    { topics: ['requests'], throttleMs: 2000 },
  );
  const total = loaded.data?.total ?? 0;
  return (
    <section aria-labelledby="all-requests-h">
      <h2 id="all-requests-h">All requests</h2>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="req-status">Status</label>
          <select
            id="req-status"
            data-testid="filter-request-status"
            value={status}
            onChange={(e) => {
              setStatus((e.target as HTMLSelectElement).value as RequestStatus | '');
              setOffset(0);
            }}
          >
            <option value="">any</option>
            {REQUEST_STATUSES.map((s) => (
              <option key={s} value={s}>
                {s.replace(/_/g, ' ')}
              </option>
            ))}
          </select>
        </div>
      </form>
      <ErrorNote error={loaded.error} />
      {loaded.data === undefined ? (
        <Loading what="requests" />
      ) : loaded.data.items.length === 0 ? (
        <Empty>No request{status ? ` is ${status.replace(/_/g, ' ')}` : ' yet'}.</Empty>
      ) : (
        <>
          <RequestList items={loaded.data.items} />
          <Pager offset={offset} total={total} page={PAGE} onChange={setOffset} />
        </>
      )}
    </section>
  );
}

export function Pager(props: { offset: number; total: number; page: number; onChange: (offset: number) => void }) {
  const { offset, total, page } = props;
  return (
    <fieldset class="pager">
      <legend class="visually-hidden">Pages</legend>
      <button type="button" disabled={offset === 0} onClick={() => props.onChange(Math.max(0, offset - page))}>
        Newer
      </button>
      <span>
        {total === 0 ? 0 : offset + 1}–{Math.min(total, offset + page)} of {total}
      </span>
      <button type="button" disabled={offset + page >= total} onClick={() => props.onChange(offset + page)}>
        Older
      </button>
    </fieldset>
  );
}
