// Maintenance (#/maintenance): the windows (a guest, a node or a tag Overseer leaves alone for a time) and the
// silences (one incident kind on one guest), active and scheduled, or all; an operator starts a window, ends one or
// removes a silence here. Live: it reloads on the monitor's maintenance and silence events.
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { messageOf } from '../api/client';
import { api } from '../api/endpoints';
import type { MaintenanceScope, MaintenanceView, SilenceView } from '../api/types';
import { Badge, Empty, ErrorNote, Loading, When } from '../components/common';
import { useLoad } from '../live/hooks';
import { href } from '../router';
import { atLeast, useSession } from '../session';

/** What a window may be set for from here (the API takes up to 30 days). */
const DURATIONS = [
  ['30 minutes', 1_800],
  ['1 hour', 3_600],
  ['2 hours', 7_200],
  ['4 hours', 14_400],
  ['8 hours', 28_800],
  ['1 day', 86_400],
  ['3 days', 259_200],
] as const;

const TARGET_HINT: Record<MaintenanceScope, string> = { guest: 'lab/101', node: 'lab/pve2', tag: 'web' };

/** A guest target `<cluster>/<vmid>` as a link to its page; anything else as text. */
function TargetText({ scope, target }: { scope: MaintenanceScope; target: string }) {
  if (scope !== 'guest') return <>{target}</>;
  return <a href={href('vm', ...target.split('/'))}>{target}</a>;
}

export function MaintenanceViewPage() {
  const { principal } = useSession();
  const [all, setAll] = useState(false);
  const loaded = useLoad((signal) => api.maintenanceBoard(all, signal), [all], {
    topics: ['maintenance'],
    throttleMs: 500,
    pollMs: 30_000,
  });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  /** Runs a change; whether it was done (its error is shown otherwise). */
  const act = async (call: () => Promise<unknown>): Promise<boolean> => {
    setBusy(true);
    setError(undefined);
    try {
      await call();
      loaded.reload();
      return true;
    } catch (err) {
      setError(messageOf(err));
      return false;
    } finally {
      setBusy(false);
    }
  };
  const mayAct = atLeast(principal.role, 'operator');
  const data = loaded.data;
  return (
    <>
      <h1>Maintenance</h1>
      <p class="lead">
        While a window lasts, Overseer records incidents of what it covers but neither remediates them nor pages anyone;
        its own requests there are denied and a person’s need a second person’s approval. A silence does the same for
        one kind of incident on one guest.
      </p>
      {mayAct ? <StartWindow busy={busy} onStart={(body) => act(() => api.maintenanceStart(body))} /> : null}
      <ErrorNote error={error ?? loaded.error} />
      <label class="field inline-field">
        <input
          type="checkbox"
          data-testid="maintenance-all"
          checked={all}
          onChange={(e) => setAll((e.target as HTMLInputElement).checked)}
        />
        Also what ended or ran out
      </label>
      {!data ? (
        <Loading what="maintenance" />
      ) : (
        <>
          <EntryTable
            title="Windows"
            id="window"
            none={`No maintenance window${all ? '' : ' now or to come'}.`}
            items={data.windows}
            head={['Covers']}
            cells={(w) => (
              <td>
                {w.scope} <TargetText scope={w.scope} target={w.target} />
              </td>
            )}
            act={
              mayAct
                ? { label: 'End now', testid: 'end-window', busy, run: (w) => act(() => api.maintenanceEnd(w.id)) }
                : undefined
            }
          />
          <EntryTable
            title="Silences"
            id="silence"
            none={`No silence${all ? '' : ' now or to come'}.`}
            items={data.silences}
            head={['Kind', 'Guest']}
            cells={(s) => (
              <>
                <td>{s.kind}</td>
                <td>
                  <TargetText scope="guest" target={s.guest} />
                </td>
              </>
            )}
            act={
              mayAct
                ? { label: 'Remove', testid: 'remove-silence', busy, run: (s) => act(() => api.silenceRemove(s.id)) }
                : undefined
            }
          />
        </>
      )}
    </>
  );
}

/** Windows or silences: each one's state, what it covers, when, who set it and why, and what an operator may do. */
function EntryTable<T extends MaintenanceView | SilenceView>({
  title,
  id,
  none,
  items,
  head,
  cells,
  act,
}: {
  title: string;
  /** Each row's test id is `<id>-<entry id>`. */
  id: string;
  none: string;
  items: T[];
  head: string[];
  cells: (item: T) => ComponentChildren;
  act: { label: string; testid: string; busy: boolean; run: (item: T) => Promise<unknown> } | undefined;
}) {
  return (
    <section aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>
        {title} ({items.length})
      </h2>
      {items.length === 0 ? (
        <Empty>{none}</Empty>
      ) : (
        <table class="list">
          <thead>
            <tr>
              {['State', ...head, 'From', 'Until', 'By', 'Reason', ...(act ? ['Act'] : [])].map((h) => (
                <th key={h} scope="col">
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {items.map((e) => (
              <tr key={e.id} data-testid={`${id}-${e.id}`} data-state={e.state}>
                <td>
                  <Badge value={e.state} />
                </td>
                {cells(e)}
                <td>
                  <When at={e.from} />
                </td>
                <td>
                  <When at={e.endedAt ?? e.until} />
                </td>
                <td>{e.byName ?? e.by}</td>
                <td>{e.reason}</td>
                {act ? (
                  <td>
                    {e.state === 'active' || e.state === 'scheduled' ? (
                      <button
                        type="button"
                        data-testid={`${act.testid}-${e.id}`}
                        disabled={act.busy}
                        onClick={() => void act.run(e)}
                      >
                        {act.label}
                      </button>
                    ) : null}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

type StartBody = Parameters<typeof api.maintenanceStart>[0];

/** Starts a window now: what it covers, for how long, and why (the reason is required, as in the CLI). */
function StartWindow({ busy, onStart }: { busy: boolean; onStart: (body: StartBody) => Promise<boolean> }) {
  const [scope, setScope] = useState<MaintenanceScope>('guest');
  const [target, setTarget] = useState('');
  const [durationSeconds, setDuration] = useState<number>(DURATIONS[2][1]);
  const [reason, setReason] = useState('');
  return (
    <section aria-labelledby="start-h" class="actions">
      <h2 id="start-h">Start a window</h2>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void onStart({ scope, target: target.trim(), durationSeconds, reason: reason.trim() }).then((started) => {
            if (!started) return;
            setTarget('');
            setReason('');
          });
        }}
      >
        <div class="field">
          <label for="mw-scope">Covers</label>
          <select
            id="mw-scope"
            data-testid="maintenance-scope"
            value={scope}
            onChange={(e) => setScope((e.target as HTMLSelectElement).value as MaintenanceScope)}
          >
            <option value="guest">a guest</option>
            <option value="node">a node</option>
            <option value="tag">a tag</option>
          </select>
        </div>
        <div class="field">
          <label for="mw-target">{scope === 'tag' ? 'Tag' : scope === 'node' ? 'Cluster/node' : 'Cluster/VMID'}</label>
          <input
            id="mw-target"
            data-testid="maintenance-target"
            required
            maxLength={200}
            placeholder={TARGET_HINT[scope]}
            value={target}
            onInput={(e) => setTarget((e.target as HTMLInputElement).value)}
          />
        </div>
        <div class="field">
          <label for="mw-for">For</label>
          <select
            id="mw-for"
            data-testid="maintenance-for"
            value={String(durationSeconds)}
            onChange={(e) => setDuration(Number((e.target as HTMLSelectElement).value))}
          >
            {DURATIONS.map(([label, seconds]) => (
              <option key={seconds} value={String(seconds)}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="mw-reason">Reason</label>
          <input
            id="mw-reason"
            data-testid="maintenance-reason"
            required
            maxLength={1000}
            value={reason}
            onInput={(e) => setReason((e.target as HTMLInputElement).value)}
          />
        </div>
        <button type="submit" class="primary" data-testid="maintenance-start" disabled={busy}>
          Start
        </button>
      </form>
    </section>
  );
}
