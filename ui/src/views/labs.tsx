// Labs: the live ones (or every one), a form to plan or apply a lab file, and #/labs/<cluster>/<name>: one lab.
import { useState } from 'preact/hooks';
import { messageOf } from '../api/client';
import { api } from '../api/endpoints';
import type { LabPlanReply } from '../api/types';
import { Badge, Empty, ErrorNote, Loading, When } from '../components/common';
import { useLoad } from '../live/hooks';
import { href } from '../router';
import { atLeast, useSession } from '../session';
import { LabDetail } from './lab-detail';

export function LabsView({ cluster, name }: { cluster: string | undefined; name: string | undefined }) {
  if (cluster && name) return <LabDetail cluster={cluster} name={name} />;
  return <LabList />;
}

function LabList() {
  const [all, setAll] = useState(false);
  const loaded = useLoad((signal) => api.labs(!all, signal), [all], { topics: ['labs'], throttleMs: 1000 });
  const items = loaded.data?.items;
  return (
    <>
      <h1>Labs</h1>
      <section aria-labelledby="labs-h">
        <h2 id="labs-h">{all ? 'Every lab' : 'Live labs'}</h2>
        <label class="check">
          <input type="checkbox" checked={all} onChange={(e) => setAll((e.target as HTMLInputElement).checked)} /> Show
          ended labs too
        </label>
        <ErrorNote error={loaded.error} />
        {items === undefined ? (
          <Loading what="labs" />
        ) : items.length === 0 ? (
          <Empty>No {all ? '' : 'live '}lab.</Empty>
        ) : (
          <table class="list">
            <thead>
              <tr>
                <th scope="col">Lab</th>
                <th scope="col">Cluster</th>
                <th scope="col">Status</th>
                <th scope="col">Members ready</th>
                <th scope="col">Applied by</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
              </tr>
            </thead>
            <tbody>
              {items.map((lab) => (
                <tr
                  key={`${lab.cluster}/${lab.name}`}
                  data-testid={`lab-row-${lab.cluster}-${lab.name}`}
                  data-status={lab.status}
                >
                  <td>
                    <a href={href('labs', lab.cluster, lab.name)}>{lab.name}</a>
                  </td>
                  <td>{lab.cluster}</td>
                  <td>
                    <Badge value={lab.status} />
                  </td>
                  <td>
                    {lab.members.filter((m) => m.phase === 'ready').length} / {lab.members.length}
                  </td>
                  <td>{lab.requester.name ?? lab.requester.id}</td>
                  <td>
                    <When at={lab.createdAt} />
                  </td>
                  <td>{lab.expiresAt ? <When at={lab.expiresAt} /> : '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <LabFileForm onApplied={loaded.reload} />
    </>
  );
}

function LabFileForm({ onApplied }: { onApplied: () => void }) {
  const { principal } = useSession();
  const [file, setFile] = useState('');
  const [fileName, setFileName] = useState('lab.yaml');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [plan, setPlan] = useState<LabPlanReply>();
  const [applied, setApplied] = useState<{ cluster: string; name: string; status: string }>();

  const run = async (what: 'plan' | 'apply') => {
    setBusy(true);
    setError(undefined);
    setApplied(undefined);
    try {
      if (what === 'plan') setPlan(await api.labPlan(file, fileName || undefined));
      else {
        const lab = await api.labApply(file, fileName || undefined);
        setApplied({ cluster: lab.cluster, name: lab.name, status: lab.status });
        onApplied();
      }
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="labfile-h">
      <h2 id="labfile-h">Plan or apply a lab file</h2>
      <form class="labfile" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="lab-file-name">File name (.json is read as JSON, anything else as YAML)</label>
          <input
            id="lab-file-name"
            value={fileName}
            onInput={(e) => setFileName((e.target as HTMLInputElement).value)}
          />
        </div>
        <label for="lab-file">Lab file</label>
        <textarea
          id="lab-file"
          data-testid="lab-file"
          rows={10}
          spellcheck={false}
          value={file}
          onInput={(e) => setFile((e.target as HTMLTextAreaElement).value)}
        />
        <div class="buttons">
          <button
            type="button"
            data-testid="lab-plan"
            disabled={busy || file.trim() === ''}
            onClick={() => void run('plan')}
          >
            Plan
          </button>
          {atLeast(principal.role, 'operator') ? (
            <button
              type="button"
              class="primary"
              data-testid="lab-apply"
              disabled={busy || file.trim() === ''}
              onClick={() => void run('apply')}
            >
              Apply
            </button>
          ) : null}
        </div>
      </form>
      <ErrorNote error={error} />
      {applied ? (
        <output class="block">
          Lab <a href={href('labs', applied.cluster, applied.name)}>{applied.name}</a> is{' '}
          {applied.status.replace(/_/g, ' ')}.
        </output>
      ) : null}
      {plan ? (
        <div data-testid="lab-plan-result" data-ok={String(plan.ok)}>
          <p>
            <Badge value={plan.ok ? 'ready' : 'failed'} label={plan.ok ? 'valid' : 'problems'} />{' '}
            {plan.lab ? `lab ${plan.lab}` : ''} {plan.cluster ? `on ${plan.cluster}` : ''}
          </p>
          {[...plan.issues, ...plan.warnings].length > 0 ? (
            <ul class="reasons">
              {plan.issues.map((i) => (
                <li key={`e${i.path}${i.message}`} class="tone-text-bad">
                  {i.path || 'file'}
                  {i.line ? ` (line ${i.line})` : ''}: {i.message}
                </li>
              ))}
              {plan.warnings.map((i) => (
                <li key={`w${i.path}${i.message}`}>
                  warning: {i.path || 'file'}: {i.message}
                </li>
              ))}
            </ul>
          ) : null}
          {plan.lines.length > 0 ? <pre class="plan">{plan.lines.join('\n')}</pre> : null}
        </div>
      ) : null}
    </section>
  );
}
