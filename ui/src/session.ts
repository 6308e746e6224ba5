// Who is signed in, for every view: the principal from GET /v1/session and what its role lets the page offer. The
// page hides what the role may not do; the server refuses it anyway.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import { ACTION_ROLE, ROLE_RANK } from '../../machines/types';
import type { Action, Principal, RequestView, Role } from './api/types';

export interface SessionInfo {
  principal: Principal;
  signOut: () => void;
}

export const SessionContext = createContext<SessionInfo | undefined>(undefined);

export function useSession(): SessionInfo {
  const session = useContext(SessionContext);
  if (!session) throw new Error('useSession outside a signed-in page');
  return session;
}

export const atLeast = (role: Role, needed: Role): boolean => ROLE_RANK[role] >= ROLE_RANK[needed];

/** Whether the role may submit this action at all (the gate's authorization check says the same). */
export const mayRequest = (role: Role, action: Action): boolean => atLeast(role, ACTION_ROLE[action]);

/** The lowest role that may approve a request for this action (never below operator). */
export const approverRole = (action: Action): Role =>
  atLeast(ACTION_ROLE[action], 'operator') ? ACTION_ROLE[action] : 'operator';

/**
 * Whether this principal may approve the request: another person (the core also refuses another token of the
 * requester's person, which the page cannot see) with the approver role.
 */
export function mayApprove(principal: Principal, request: Pick<RequestView, 'requester' | 'action'>): boolean {
  return principal.id !== request.requester.id && atLeast(principal.role, approverRole(request.action));
}

/** Whether this principal may deny or cancel the request: its requester, or an admin. */
export function mayClose(principal: Principal, request: Pick<RequestView, 'requester'>): boolean {
  return principal.id === request.requester.id || principal.role === 'admin';
}
