// One lab (#/labs/<cluster>/<name>): its status and the gate's decision check by check, approval under the
// two-person rule, the progress of an apply step by step, its members with their phases and dependency graph, its
// plan lines, snapshots, drift and failure, and destroy / snapshot / revert by the roles that may.
import { useState } from 'preact/hooks';
import { messageOf } from '../api/client';
import { api } from '../api/endpoints';
import type { LabView } from '../api/types';
import { Badge, Empty, ErrorNote, Facts, Loading, When } from '../components/common';
import { ChecksTable, KnowledgeWarnings } from '../components/gate-answer';
import { LabGraph } from '../graph/lab-graph';
import { useLoad } from '../live/hooks';
import { href, inspectHref } from '../router';
import { atLeast, useSession } from '../session';
import { Confirm } from './vm-actions';

const STEPS = ['clone', 'configure', 'start', 'ready'] as const;

export function LabDetail({ cluster, name }: { cluster: string; name: string }) {
  const loaded = useLoad((signal) => api.lab(cluster, name, signal), [cluster, name], {
    topics: [`actor:lab:${cluster}/${name}`],
    throttleMs: 500,
    pollMs: 5000,
  });
  const lab = loaded.data;
  if (!lab) {
    return (
      <>
        <h1>Lab {name}</h1>
        {loaded.loading ? <Loading what="the lab" /> : <ErrorNote error={loaded.error} />}
      </>
    );
  }
  return (
    <>
      <h1>
        Lab {lab.name} <span class="subtle">on {lab.cluster}</span>
      </h1>
      <p class="lead">
        <span data-testid="lab-status" data-status={lab.status}>
          <Badge value={lab.status} />
        </span>{' '}
        {lab.decision ? (
          <>
            decision <Badge value={lab.decision} />
          </>
        ) : null}{' '}
        · <a href={inspectHref(`lab:${lab.cluster}/${lab.name}`)}>its statechart in the inspector</a>
      </p>
      <ErrorNote error={loaded.error} />
      <Facts
        items={[
          ['Applied by', `${lab.requester.name ?? lab.requester.id} (${lab.requester.role})`],
          ['Generation', String(lab.generation)],
          ['Created', <When key="c" at={lab.createdAt} />],
          ['Updated', <When key="u" at={lab.updatedAt} />],
          ['Expires', lab.expiresAt ? <When key="e" at={lab.expiresAt} /> : 'never'],
          [
            'Approved by',
            lab.approvedBy ? `${lab.approvedBy.id}${lab.approvedBy.reason ? `: “${lab.approvedBy.reason}”` : ''}` : '—',
          ],
        ]}
      />
      {lab.failure ? (
        <p class="callout tone-bad" role="note">
          <strong>Failed at {lab.failure.step}</strong>
          {lab.failure.member ? ` (${lab.failure.member})` : ''}: {lab.failure.error}
        </p>
      ) : null}
      <LabControls lab={lab} onDone={loaded.reload} />
      {lab.progress ? <Progress lab={lab} /> : null}
      <section aria-labelledby="members-h">
        <h2 id="members-h">Members</h2>
        {lab.members.length === 0 ? (
          <Empty>No member.</Empty>
        ) : (
          <>
            <LabGraph members={lab.members} />
            <table class="list">
              <thead>
                <tr>
                  <th scope="col">Member</th>
                  <th scope="col">Wave</th>
                  <th scope="col">After</th>
                  <th scope="col">Phase</th>
                  <th scope="col">Guest</th>
                  <th scope="col">Node</th>
                  <th scope="col">Ready</th>
                </tr>
              </thead>
              <tbody>
                {lab.members.map((m) => (
                  <tr key={m.name} data-testid={`lab-member-${m.name}`} data-phase={m.phase}>
                    <th scope="row">{m.name}</th>
                    <td class="num">{m.wave}</td>
                    <td>{m.dependsOn.join(', ') || '—'}</td>
                    <td>
                      <Badge value={m.phase} />
                      {m.error ? <span class="tone-text-bad"> {m.error}</span> : null}
                    </td>
                    <td>
                      {m.vmid !== undefined ? (
                        <a href={href('vm', lab.cluster, m.vmid)}>{`${m.vmid} ${m.guestName}`}</a>
                      ) : (
                        m.guestName
                      )}
                    </td>
                    <td>{m.node ?? '—'}</td>
                    <td>{m.readyAt ? <When at={m.readyAt} /> : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </>
        )}
      </section>
      <section aria-labelledby="lab-decision-h">
        <h2 id="lab-decision-h">The gate’s decision</h2>
        {lab.reasons.length > 0 ? (
          <ul class="reasons">
            {lab.reasons.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        ) : null}
        <KnowledgeWarnings checks={lab.checks} />
        <ChecksTable checks={lab.checks} />
      </section>
      <section aria-labelledby="plan-h">
        <h2 id="plan-h">Plan</h2>
        {lab.plan.length === 0 ? (
          <Empty>No plan recorded.</Empty>
        ) : (
          <pre class="plan" data-testid="lab-plan-lines">
            {lab.plan.join('\n')}
          </pre>
        )}
      </section>
      {lab.drift.length > 0 ? (
        <section aria-labelledby="drift-h">
          <h2 id="drift-h">Drift</h2>
          <ul class="plain">
            {lab.drift.map((d) => (
              <li key={`${d.member}${d.at}`}>
                {d.member} is <Badge value={d.state} /> (<When at={d.at} />)
              </li>
            ))}
          </ul>
        </section>
      ) : null}
      <section aria-labelledby="lab-snap-h">
        <h2 id="lab-snap-h">Snapshots</h2>
        {lab.snapshots.length === 0 ? (
          <Empty>No whole-lab snapshot.</Empty>
        ) : (
          <ul class="plain">
            {lab.snapshots.map((s) => (
              <li key={s.name}>
                {s.name} (<When at={s.at} />, {s.members.length} members)
              </li>
            ))}
          </ul>
        )}
      </section>
      <section aria-labelledby="created-h">
        <h2 id="created-h">What it made</h2>
        {lab.created.length === 0 ? (
          <Empty>Nothing on the platform.</Empty>
        ) : (
          <p>{lab.created.map((c) => `${c.kind} ${c.id}`).join(' · ')}</p>
        )}
      </section>
    </>
  );
}

function Progress({ lab }: { lab: LabView }) {
  const p = lab.progress!;
  return (
    <section aria-labelledby="lab-progress-h" data-testid="lab-progress">
      <h2 id="lab-progress-h">Progress of the apply</h2>
      <p class="muted">{p.reason}</p>
      <table class="list progress-table">
        <thead>
          <tr>
            <th scope="col">Step</th>
            <th scope="col">Done</th>
            <th scope="col">Running</th>
            <th scope="col">Waiting</th>
            <th scope="col">Failed</th>
          </tr>
        </thead>
        <tbody>
          {STEPS.map((step) => {
            const s = p[step];
            const total = s.todo.length + s.running.length + s.done.length + s.failed.length;
            return (
              <tr key={step} data-testid={`lab-step-${step}`} data-done={s.done.length} data-total={total}>
                <th scope="row">{step}</th>
                <td>
                  <progress
                    max={Math.max(1, total)}
                    value={s.done.length}
                    aria-label={`${step}: ${s.done.length} of ${total} done`}
                  />{' '}
                  {s.done.length} / {total}
                </td>
                <td>{s.running.join(', ') || '—'}</td>
                <td>{s.todo.join(', ') || '—'}</td>
                <td class={s.failed.length > 0 ? 'tone-text-bad' : undefined}>{s.failed.join(', ') || '—'}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

function LabControls({ lab, onDone }: { lab: LabView; onDone: () => void }) {
  const { principal } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [reason, setReason] = useState('');
  const [snapshot, setSnapshot] = useState('');
  const [confirm, setConfirm] = useState(false);
  if (!atLeast(principal.role, 'operator') || lab.ended) return null;
  const mine = principal.id === lab.requester.id;
  const admin = principal.role === 'admin';
  const awaiting = lab.status === 'awaiting_approval';
  const ready = lab.status === 'ready';
  const canDestroy = admin && (ready || lab.status === 'failed');

  const run = async (what: () => Promise<unknown>) => {
    setBusy(true);
    setError(undefined);
    try {
      await what();
      onDone();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  if (!awaiting && !ready && !canDestroy) return null;
  return (
    <section aria-labelledby="lab-act-h" class="actions">
      <h2 id="lab-act-h">Actions</h2>
      {awaiting ? (
        <>
          <p class="two-person">
            <strong>Two-person rule.</strong> Applied by {lab.requester.name ?? lab.requester.id}, who cannot approve
            it; any other person with the operator role or higher may.{' '}
            {mine ? 'You applied it: another person must approve it.' : 'You may approve it.'}
          </p>
          <label for="lab-reason">Reason</label>
          <input
            id="lab-reason"
            value={reason}
            maxLength={500}
            onInput={(e) => setReason((e.target as HTMLInputElement).value)}
          />
          <div class="buttons">
            {!mine ? (
              <button
                type="button"
                class="primary"
                data-testid="lab-approve"
                disabled={busy}
                onClick={() => void run(() => api.labAct(lab.cluster, lab.name, 'approve', reason || undefined))}
              >
                Approve
              </button>
            ) : null}
            {mine || admin ? (
              <button
                type="button"
                class="danger"
                data-testid="lab-deny"
                disabled={busy}
                onClick={() => void run(() => api.labAct(lab.cluster, lab.name, 'deny', reason || undefined))}
              >
                {mine ? 'Cancel' : 'Deny'}
              </button>
            ) : null}
          </div>
        </>
      ) : null}
      {ready ? (
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            void run(() => api.labSnapshot(lab.cluster, lab.name, 'snapshot', snapshot));
          }}
        >
          <label for="lab-snapshot">Snapshot every member as</label>
          <input
            id="lab-snapshot"
            required
            pattern="[A-Za-z][A-Za-z0-9_\-]+"
            maxLength={40}
            value={snapshot}
            onInput={(e) => setSnapshot((e.target as HTMLInputElement).value)}
          />
          <button type="submit" disabled={busy} data-testid="lab-snapshot">
            Snapshot
          </button>
          {lab.snapshots.map((s) => (
            <button
              key={s.name}
              type="button"
              disabled={busy}
              data-testid={`lab-revert-${s.name}`}
              onClick={() => void run(() => api.labSnapshot(lab.cluster, lab.name, 'revert', s.name))}
            >
              Revert to {s.name}
            </button>
          ))}
        </form>
      ) : null}
      {canDestroy ? (
        confirm ? (
          <Confirm
            action="destroy"
            text={`Tear lab ${lab.name} down: every guest, network and pool it made is removed.`}
            onConfirm={() => {
              setConfirm(false);
              void run(() => api.labAct(lab.cluster, lab.name, 'destroy'));
            }}
            onCancel={() => setConfirm(false)}
          />
        ) : (
          <div class="buttons">
            <button
              type="button"
              class="danger"
              data-testid="lab-destroy"
              disabled={busy}
              onClick={() => setConfirm(true)}
            >
              Destroy the lab
            </button>
          </div>
        )
      ) : null}
      <ErrorNote error={error} />
    </section>
  );
}
