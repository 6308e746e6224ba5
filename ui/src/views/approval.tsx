// The two-person rule made visible on a request that awaits approval: who asked, who may approve, whether the
// signed-in person may, and the approve / deny (or, for its requester, cancel) buttons with an optional reason.
import { useState } from 'preact/hooks';
import { messageOf } from '../api/client';
import { api } from '../api/endpoints';
import type { RequestView } from '../api/types';
import { ErrorNote } from '../components/common';
import { approverRole, atLeast, mayApprove, mayClose, useSession } from '../session';

const who = (r: RequestView['requester']) => `${r.name ?? r.id} (${r.role})`;

export function TwoPersonRule({ request }: { request: RequestView }) {
  const { principal } = useSession();
  const needed = approverRole(request.action);
  const mine = principal.id === request.requester.id;
  let you: string;
  if (mine) you = 'You asked for it: another person must approve it.';
  else if (!atLeast(principal.role, needed)) you = `You may not approve it: your role is ${principal.role}.`;
  else you = 'You may approve it (unless your token belongs to the same person as the requester’s).';
  return (
    <p class="two-person" data-testid={`two-person-${request.id}`}>
      <strong>Two-person rule.</strong> Asked by <span data-testid="requester">{who(request.requester)}</span>, who
      cannot approve it; any other person with the <strong>{needed}</strong> role or higher may. {you}
    </p>
  );
}

export function ApprovalControls({ request, onDone }: { request: RequestView; onDone?: () => void }) {
  const { principal } = useSession();
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [result, setResult] = useState<string>();
  if (!atLeast(principal.role, 'operator') || request.status !== 'awaiting_approval') return null;
  const approve = mayApprove(principal, request);
  const close = mayClose(principal, request);
  if (!approve && !close) return null;
  const mine = principal.id === request.requester.id;

  const act = async (command: 'approve' | 'deny' | 'cancel') => {
    setBusy(true);
    setError(undefined);
    try {
      const answer = await api.command(request.id, command, reason.trim() || undefined);
      setResult(
        `${command === 'approve' ? 'Approved' : command === 'deny' ? 'Denied' : 'Cancelled'}: the request is ${answer.status.replace(/_/g, ' ')}.`,
      );
      onDone?.();
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  const reasonId = `reason-${request.id}`;
  return (
    <fieldset class="approval">
      <legend class="visually-hidden">Decide on request {request.id.slice(0, 8)}</legend>
      <label for={reasonId}>Reason (kept in the request’s history and the audit log)</label>
      <input
        id={reasonId}
        data-testid={`reason-${request.id}`}
        maxLength={1000}
        value={reason}
        onInput={(e) => setReason((e.target as HTMLInputElement).value)}
      />
      <div class="buttons">
        {approve ? (
          <button
            type="button"
            class="primary"
            data-testid={`approve-${request.id}`}
            disabled={busy}
            onClick={() => void act('approve')}
          >
            Approve
          </button>
        ) : null}
        {close && !mine ? (
          <button
            type="button"
            class="danger"
            data-testid={`deny-${request.id}`}
            disabled={busy}
            onClick={() => void act('deny')}
          >
            Deny
          </button>
        ) : null}
        {mine ? (
          <button type="button" data-testid={`cancel-${request.id}`} disabled={busy} onClick={() => void act('cancel')}>
            Cancel my request
          </button>
        ) : null}
      </div>
      {result ? <output class="ok-text block">{result}</output> : null}
      <ErrorNote error={error} />
    </fieldset>
  );
}
