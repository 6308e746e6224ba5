// One request (#/requests/<id>): what was asked and by whom, the final decision and who took it, each check with
// its outcome and sentence, the knowledge base's warnings, its status history, platform tasks, a bulk request's
// members and progress, and approve / deny while it awaits approval. Live: it reloads on its events.
import { decisionShown } from '../../../protocol/decision-words';
import { api } from '../api/endpoints';
import { Badge, ErrorNote, Facts, Loading, When } from '../components/common';
import { ChecksTable, KnowledgeWarnings } from '../components/gate-answer';
import { TargetLink } from '../components/request-list';
import { useLoad } from '../live/hooks';
import { href, inspectHref } from '../router';
import { ApprovalControls, TwoPersonRule } from './approval';

export function RequestDetail({ id }: { id: string }) {
  const loaded = useLoad((signal) => api.request(id, signal), [id], { topics: [`actor:req:${id}`], throttleMs: 500 });
  const r = loaded.data;
  if (!r) {
    return (
      <>
        <h1>Request {id.slice(0, 8)}</h1>
        {loaded.loading ? <Loading what="the request" /> : <ErrorNote error={loaded.error} />}
      </>
    );
  }
  const decidedBy = r.decidedBy;
  return (
    <>
      <h1>
        Request {r.id.slice(0, 8)}: {r.action}
      </h1>
      <p class="lead">
        <span data-testid="request-status" data-status={r.status}>
          <Badge value={r.status} />
        </span>{' '}
        {r.decision ? (
          <span data-testid="request-decision">
            decision <Badge value={decisionShown(r) ?? r.decision} />
          </span>
        ) : null}{' '}
        · <a href={inspectHref(`req:${r.id}`)}>its statechart in the inspector</a>
      </p>
      <ErrorNote error={loaded.error} />
      <Facts
        items={[
          ['Id', <code key="id">{r.id}</code>],
          ['Target', <TargetLink key="t" request={r} />],
          [
            'Asked by',
            `${r.requester.name ?? r.requester.id} (${r.requester.role}${r.origin === 'overseer' ? ', automatic' : ''})`,
          ],
          ['Forced', r.force ? 'yes' : 'no'],
          ['Parameters', Object.keys(r.params).length > 0 ? <code key="p">{JSON.stringify(r.params)}</code> : '—'],
          ['Submitted', <When key="s" at={r.submittedAt} />],
          ['Updated', <When key="u" at={r.updatedAt} />],
          [
            'Decided by',
            decidedBy
              ? `${decidedBy.kind === 'gate' ? 'the gate' : (decidedBy.name ?? decidedBy.id ?? 'a person')}${decidedBy.reason ? `: “${decidedBy.reason}”` : ''}`
              : '—',
          ],
          ['Parent', r.parent ? <a href={href('requests', r.parent)}>{r.parent.slice(0, 8)}</a> : '—'],
        ]}
      />
      {r.error ? (
        <p class="callout tone-bad" role="note">
          <strong>Error:</strong> {r.error}
        </p>
      ) : null}
      {r.status === 'awaiting_approval' ? (
        <section aria-labelledby="approval-h">
          <h2 id="approval-h">Approval</h2>
          <TwoPersonRule request={r} />
          <ApprovalControls request={r} onDone={loaded.reload} />
        </section>
      ) : null}
      <section aria-labelledby="decision-h">
        <h2 id="decision-h">Decision</h2>
        {r.reasons.length > 0 ? (
          <ul class="reasons">
            {r.reasons.map((reason) => (
              <li key={reason}>{reason}</li>
            ))}
          </ul>
        ) : (
          <p class="muted">No reason against it.</p>
        )}
        <KnowledgeWarnings checks={r.checks} />
        <div data-testid="gate-answer" data-decision={r.decision ?? ''}>
          <ChecksTable checks={r.checks} />
        </div>
      </section>
      {r.progress ? (
        <section aria-labelledby="progress-h">
          <h2 id="progress-h">Members</h2>
          <p>
            <progress
              max={r.progress.total}
              value={r.progress.completed + r.progress.failed}
              aria-labelledby="progress-h"
            />{' '}
            {r.progress.completed} completed, {r.progress.failed} failed, {r.progress.active} active of{' '}
            {r.progress.total}
          </p>
          {r.members ? <p class="muted">{r.members.map((m) => `${m.action} ${m.vmid}`).join(' · ')}</p> : null}
        </section>
      ) : null}
      <section aria-labelledby="rhistory-h">
        <h2 id="rhistory-h">History</h2>
        <ol class="history" data-testid="request-history">
          {r.history.map((h, i) => (
            <li key={`${h.at}-${i}`}>
              <When at={h.at} /> <Badge value={h.status} />
              {h.by ? ` by ${h.byName ?? h.by}` : ''}
              {h.note ? ` — “${h.note}”` : ''}
            </li>
          ))}
        </ol>
      </section>
      {r.tasks.length > 0 ? (
        <section aria-labelledby="tasks-h">
          <h2 id="tasks-h">Platform tasks</h2>
          <ul class="plain">
            {r.tasks.map((t) => (
              <li key={t.upid}>
                <code>{t.upid}</code> on {t.node}
                {t.vmid !== undefined ? ` (VM ${t.vmid})` : ''}
              </li>
            ))}
          </ul>
        </section>
      ) : null}
    </>
  );
}
