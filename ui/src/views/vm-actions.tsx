// A guest's action buttons: the actions its state allows and the role may request, each submitting POST
// /v1/requests and showing the gate's answer check by check. Snapshot and migrate ask for their parameter first;
// destroy and rollback ask for a confirmation; a production guest offers `force` for disruptive actions.
import { useState } from 'preact/hooks';
import { DISRUPTIVE_ACTIONS } from '../../../machines/types';
import { messageOf } from '../api/client';
import { api } from '../api/endpoints';
import type { Action, SubmitAnswer, VmView } from '../api/types';
import { ErrorNote } from '../components/common';
import { GateAnswer } from '../components/gate-answer';
import { store } from '../live/store';
import { mayRequest, useSession } from '../session';

/** The actions each state of the VM actor allows (an operation under way, a lock or an unknown state: none). */
const BY_STATE: Readonly<Record<string, readonly Action[]>> = {
  running: ['shutdown', 'stop', 'reboot', 'suspend', 'snapshot', 'migrate', 'destroy'],
  stopped: ['start', 'snapshot', 'migrate', 'destroy'],
  paused: ['resume', 'stop', 'snapshot', 'destroy'],
};

export const actionsFor = (state: string): readonly Action[] => BY_STATE[state] ?? [];

const CONFIRM: ReadonlySet<Action> = new Set(['destroy', 'rollback']);

export interface Submitted {
  action: Action;
  answer: SubmitAnswer;
}

/** Submits one action on a guest; the answer (or the error) is kept by the caller. */
export function useSubmit(vm: Pick<VmView, 'cluster' | 'vmid'>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [submitted, setSubmitted] = useState<Submitted>();
  const submit = async (action: Action, params: Record<string, unknown> = {}, force = false) => {
    setBusy(true);
    setError(undefined);
    try {
      const answer = await api.submit({
        action,
        target: { cluster: vm.cluster, vmid: vm.vmid },
        ...(Object.keys(params).length > 0 ? { params } : {}),
        ...(force ? { force: true } : {}),
      });
      setSubmitted({ action, answer });
    } catch (err) {
      setSubmitted(undefined);
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, submitted, submit };
}

export type SubmitState = ReturnType<typeof useSubmit>;

export function VmActions({ vm, state, submitter }: { vm: VmView; state: string; submitter: SubmitState }) {
  const { principal } = useSession();
  const [force, setForce] = useState(false);
  const [pending, setPending] = useState<Action>();
  const [snapname, setSnapname] = useState('');
  const [target, setTarget] = useState('');
  const actions = actionsFor(state).filter((a) => mayRequest(principal.role, a));
  const nodes = [...store.hosts.values()]
    .filter((h) => h.cluster === vm.cluster && h.node !== vm.node)
    .map((h) => h.node);
  const { busy, error, submitted, submit } = submitter;

  const go = (action: Action, params: Record<string, unknown> = {}) => {
    setPending(undefined);
    void submit(action, params, force && DISRUPTIVE_ACTIONS.has(action));
  };
  const click = (action: Action) => {
    if (action === 'snapshot' || action === 'migrate' || CONFIRM.has(action)) setPending(action);
    else go(action);
  };

  return (
    <section aria-labelledby="actions-h" class="actions">
      <h2 id="actions-h">Actions</h2>
      {actions.length === 0 ? (
        <p class="muted">No action is offered while the guest is {state.replace(/_/g, ' ')}.</p>
      ) : (
        <div class="buttons">
          {actions.map((a) => (
            <button
              key={a}
              type="button"
              class={a === 'destroy' ? 'danger' : undefined}
              data-testid={`action-${a}`}
              disabled={busy}
              aria-expanded={a === 'snapshot' || a === 'migrate' || CONFIRM.has(a) ? pending === a : undefined}
              onClick={() => click(a)}
            >
              {a}
            </button>
          ))}
        </div>
      )}
      {vm.production && actions.some((a) => DISRUPTIVE_ACTIONS.has(a)) ? (
        <label class="check">
          <input
            type="checkbox"
            data-testid="force"
            checked={force}
            onChange={(e) => setForce((e.target as HTMLInputElement).checked)}
          />{' '}
          Force: this guest is production (a disruptive action then needs a second person’s approval)
        </label>
      ) : null}
      {pending === 'snapshot' ? (
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            go('snapshot', { snapname });
          }}
        >
          <label for="snapname">Snapshot name</label>
          <input
            id="snapname"
            data-testid="snapshot-name"
            required
            pattern="[A-Za-z][A-Za-z0-9_\-]*"
            maxLength={40}
            value={snapname}
            onInput={(e) => setSnapname((e.target as HTMLInputElement).value)}
          />
          <button type="submit" class="primary" data-testid="confirm-snapshot">
            Take snapshot
          </button>
        </form>
      ) : null}
      {pending === 'migrate' ? (
        <form
          class="inline"
          onSubmit={(e) => {
            e.preventDefault();
            if (target) go('migrate', { target });
          }}
        >
          <label for="migrate-target">Move to node</label>
          <select
            id="migrate-target"
            data-testid="migrate-target"
            required
            value={target}
            onChange={(e) => setTarget((e.target as HTMLSelectElement).value)}
          >
            <option value="">choose a node</option>
            {nodes.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
          <button type="submit" class="primary" data-testid="confirm-migrate">
            Migrate
          </button>
        </form>
      ) : null}
      {pending === 'destroy' ? (
        <Confirm
          action="destroy"
          text={`Destroy ${vm.cluster}/${vm.vmid} (${vm.name})? Its disks are deleted; this cannot be undone.`}
          onConfirm={() => go('destroy')}
          onCancel={() => setPending(undefined)}
        />
      ) : null}
      <ErrorNote error={error} />
      {submitted ? (
        <GateAnswer
          action={submitted.action}
          decision={submitted.answer.decision}
          reasons={submitted.answer.reasons}
          checks={submitted.answer.checks}
          requestId={submitted.answer.id}
          status={submitted.answer.status}
          focusKey={submitted}
        />
      ) : null}
    </section>
  );
}

export function Confirm(props: { action: string; text: string; onConfirm: () => void; onCancel: () => void }) {
  return (
    <fieldset class="confirm">
      <legend>Confirm {props.action}</legend>
      <p>{props.text}</p>
      <button type="button" class="danger" data-testid={`confirm-${props.action}`} onClick={props.onConfirm}>
        Yes, {props.action}
      </button>{' '}
      <button type="button" class="quiet" onClick={props.onCancel}>
        Keep it
      </button>
    </fieldset>
  );
}
