// The app shell: resumes the session (GET /v1/session) or shows the sign-in page; once signed in, the header
// (connection, who is signed in, sign out), the navigation between the views, and the view of the current route.
import { useEffect, useRef, useState } from 'preact/hooks';
import { onSessionLost, setCsrf } from './api/client';
import { api } from './api/endpoints';
import type { SessionReply } from './api/types';
import { useTopics } from './live/hooks';
import { store } from './live/store';
import { type Route, useRoute, type ViewName } from './router';
import { atLeast, SessionContext } from './session';
import { AuditView } from './views/audit';
import { FleetView } from './views/fleet';
import { HealthView } from './views/health';
import { IncidentsView } from './views/incidents';
import { InspectView } from './views/inspect';
import { LabsView } from './views/labs';
import { MaintenanceViewPage } from './views/maintenance';
import { RequestsView } from './views/requests';
import { SignIn } from './views/signin';
import { VmView } from './views/vm';

const NAV: { view: ViewName; label: string; admin?: boolean }[] = [
  { view: 'fleet', label: 'Fleet' },
  { view: 'requests', label: 'Requests' },
  { view: 'incidents', label: 'Incidents' },
  { view: 'labs', label: 'Labs' },
  { view: 'maintenance', label: 'Maintenance' },
  { view: 'inspect', label: 'Inspector' },
  { view: 'health', label: 'Health' },
  { view: 'audit', label: 'Audit', admin: true },
];

type Phase =
  | { kind: 'checking' }
  | { kind: 'signed-out'; notice?: string }
  | { kind: 'signed-in'; session: SessionReply };

export function App() {
  const [phase, setPhase] = useState<Phase>({ kind: 'checking' });

  const enter = (session: SessionReply) => {
    setCsrf(session.csrf);
    store.start();
    setPhase({ kind: 'signed-in', session });
  };
  const leave = (notice?: string) => {
    store.stop();
    setCsrf(undefined);
    setPhase({ kind: 'signed-out', ...(notice ? { notice } : {}) });
  };

  useEffect(() => {
    onSessionLost(() =>
      leave('Your session ended (it expired, was signed out, or the server restarted): sign in again.'),
    );
    api.session().then(enter, () => setPhase({ kind: 'signed-out' }));
    return () => onSessionLost(undefined);
  }, []);

  if (phase.kind === 'checking') {
    return (
      <main id="main" class="signin">
        <h1>Overseer</h1>
        <p class="muted">Checking the session…</p>
      </main>
    );
  }
  if (phase.kind === 'signed-out') return <SignIn onSignedIn={enter} notice={phase.notice} />;

  const signOut = () => {
    api.signOut().then(
      () => leave(),
      () => leave(),
    );
  };
  return (
    <SessionContext.Provider value={{ principal: phase.session.principal, signOut }}>
      <Shell session={phase.session} signOut={signOut} />
    </SessionContext.Provider>
  );
}

function Shell({ session, signOut }: { session: SessionReply; signOut: () => void }) {
  const route = useRoute();
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  const isAdmin = atLeast(session.principal.role, 'admin');

  // Moving to another view puts the keyboard focus at its start (not on the first load).
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [route.view, route.rest]);

  const skip = () => main.current?.focus();
  const label = NAV.find((n) => n.view === route.view)?.label ?? (route.view === 'vm' ? 'Guest' : 'Fleet');
  useEffect(() => {
    document.title = `${label}${route.rest ? ` ${route.rest}` : ''} · Overseer`;
  }, [label, route.rest]);

  return (
    <div class="shell">
      <button type="button" class="skip" onClick={skip}>
        Skip to content
      </button>
      <header class="top">
        <span class="brand">Overseer</span>
        <Connection />
        <span class="who" data-testid="principal" data-role={session.principal.role}>
          {session.principal.name} <span class="role">({session.principal.role})</span>
        </span>
        <button type="button" class="quiet" onClick={signOut} data-testid="signout">
          Sign out
        </button>
      </header>
      <nav aria-label="Views" class="nav">
        <ul>
          {NAV.filter((n) => !n.admin || isAdmin).map((n) => (
            <li key={n.view}>
              <a
                href={`#/${n.view}`}
                data-testid={`nav-${n.view}`}
                aria-current={route.view === n.view || (n.view === 'fleet' && route.view === 'vm') ? 'page' : undefined}
              >
                {n.label}
              </a>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" ref={main} tabIndex={-1}>
        <View route={route} />
      </main>
    </div>
  );
}

function View({ route }: { route: Route }) {
  switch (route.view) {
    case 'vm':
      return <VmView key={route.rest} cluster={route.args[0] ?? ''} vmid={Number(route.args[1])} />;
    case 'requests':
      return <RequestsView id={route.args[0]} />;
    case 'incidents':
      return <IncidentsView id={route.args[0]} />;
    case 'labs':
      return <LabsView cluster={route.args[0]} name={route.args[1]} />;
    case 'maintenance':
      return <MaintenanceViewPage />;
    case 'audit':
      return <AuditView />;
    case 'health':
      return <HealthView />;
    case 'inspect':
      return <InspectView actorId={route.rest === '' ? undefined : route.rest} />;
    default:
      return <FleetView />;
  }
}

const CONN_TEXT = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' } as const;

function Connection() {
  useTopics(['conn']);
  const state = store.conn;
  return (
    <output class={`conn conn-${state}`} data-testid="conn-state" data-state={state}>
      <span class="dot" aria-hidden="true" />
      {CONN_TEXT[state]}
    </output>
  );
}
