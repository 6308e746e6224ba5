// The sign-in page: an API token, exchanged for a session (POST /v1/session). The token is sent once; the browser
// then holds only the HttpOnly session cookie.
import { useState } from 'preact/hooks';
import { messageOf } from '../api/client';
import { api } from '../api/endpoints';
import type { SessionReply } from '../api/types';
import { ErrorNote } from '../components/common';

export function SignIn({ onSignedIn, notice }: { onSignedIn: (s: SessionReply) => void; notice?: string | undefined }) {
  const [token, setToken] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const submit = async (e: Event) => {
    e.preventDefault();
    if (token.trim() === '') return;
    setBusy(true);
    setError(undefined);
    try {
      const session = await api.signIn(token.trim());
      setToken('');
      onSignedIn(session);
    } catch (err) {
      setError(messageOf(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main id="main" class="signin">
      <h1>Sign in to Overseer</h1>
      {notice ? <p class="callout tone-warn">{notice}</p> : null}
      <form onSubmit={submit} class="card">
        <label for="signin-token">API token</label>
        <input
          id="signin-token"
          data-testid="signin-token"
          type="password"
          autoComplete="off"
          spellcheck={false}
          required
          value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)}
          aria-describedby="signin-hint"
        />
        <p id="signin-hint" class="hint">
          The first admin token is in <code>data/admin.token</code> on the host; <code>npx overseer token create</code>{' '}
          makes more. It is exchanged for a session cookie and not kept by the page.
        </p>
        <button type="submit" class="primary" data-testid="signin-submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
        <ErrorNote error={error} />
      </form>
    </main>
  );
}
