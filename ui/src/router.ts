// Hash routes (the server serves one page): #/fleet, #/vm/<cluster>/<vmid>, #/requests[/<id>],
// #/incidents[/<id>], #/labs[/<cluster>/<name>], #/maintenance, #/audit, #/health, #/inspect[/<actor-id>].
import { useEffect, useState } from 'preact/hooks';

export type ViewName =
  | 'fleet'
  | 'vm'
  | 'requests'
  | 'incidents'
  | 'labs'
  | 'maintenance'
  | 'audit'
  | 'health'
  | 'inspect';

export interface Route {
  view: ViewName;
  /** The path's parts after the view's name, decoded. */
  args: string[];
  /** The rest of the path after the view's name, decoded as one string (an actor id keeps its slashes). */
  rest: string;
}

const VIEWS: readonly ViewName[] = [
  'fleet',
  'vm',
  'requests',
  'incidents',
  'labs',
  'maintenance',
  'audit',
  'health',
  'inspect',
];

const decode = (part: string): string => {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
};

export function parseHash(hash: string): Route {
  const path = hash.replace(/^#\/?/, '');
  const [head = '', ...parts] = path.split('/');
  const view = (VIEWS as readonly string[]).includes(head) ? (head as ViewName) : 'fleet';
  const rawRest = path.slice(head.length + 1);
  return { view, args: parts.filter((p) => p !== '').map(decode), rest: decode(rawRest) };
}

/** The href of a route: `href('vm', 'lab', 101)` → `#/vm/lab/101`. */
export const href = (view: ViewName, ...parts: (string | number)[]): string =>
  `#/${[view, ...parts.map((p) => encodeURIComponent(String(p)))].join('/')}`;

/** The inspector's href for an actor id (kept readable: `#/inspect/vm:lab/101`). */
export const inspectHref = (actorId: string): string =>
  `#/inspect/${actorId
    .split('/')
    .map((p) => encodeURIComponent(p).replace(/%3A/gi, ':'))
    .join('/')}`;

export function useRoute(): Route {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const onChange = () => setRoute(parseHash(location.hash));
    window.addEventListener('hashchange', onChange);
    return () => window.removeEventListener('hashchange', onChange);
  }, []);
  return route;
}
