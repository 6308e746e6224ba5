// On an incident about a guest: silence its kind on that guest for a while (POST /v1/silences), with the reason it is
// kept with — for a condition that comes back while someone works on it. The core checks the role and the kind.
import { useState } from 'preact/hooks';
import { messageOf } from '../api/client';
import { api } from '../api/endpoints';
import { href } from '../router';
import { ErrorNote } from './common';

const FOR = [
  ['1 hour', 3_600],
  ['4 hours', 14_400],
  ['1 day', 86_400],
] as const;

export function SilenceForm({ kind, guest }: { kind: string; guest: string }) {
  const [seconds, setSeconds] = useState<number>(FOR[0][1]);
  const [reason, setReason] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();
  const silence = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const made = await api.silenceAdd({ kind, guest, durationSeconds: seconds, reason: reason.trim() });
      setDone(made.id);
      setReason('');
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="silence-h" class="actions">
      <h2 id="silence-h">Silence it</h2>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void silence();
        }}
      >
        <div class="field">
          <label for="silence-for">
            {kind} on {guest}, for
          </label>
          <select
            id="silence-for"
            value={String(seconds)}
            onChange={(e) => setSeconds(Number((e.target as HTMLSelectElement).value))}
          >
            {FOR.map(([label, s]) => (
              <option key={s} value={String(s)}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="silence-reason">Reason</label>
          <input
            id="silence-reason"
            data-testid="silence-reason"
            required
            maxLength={1000}
            value={reason}
            onInput={(e) => setReason((e.target as HTMLInputElement).value)}
          />
        </div>
        <button type="submit" data-testid="incident-silence" disabled={busy}>
          Silence
        </button>
      </form>
      {done ? (
        <output data-testid="incident-silenced">
          Silenced ({done}): recorded, not remediated, not paged. <a href={href('maintenance')}>All silences</a>
        </output>
      ) : null}
      <ErrorNote error={error} />
    </section>
  );
}
