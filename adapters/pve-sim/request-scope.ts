// Which simulator work belongs to an HTTP call still being answered: `requestScope.getStore()` is the call's scope
// (open until its answer is sent) inside a handler, and undefined in task workers and other background work. A
// test harness on a simulated clock uses it to tell a call that waits for simulated time (a guest-agent ping, a
// lock wait) from one that waits for I/O.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface RequestScope {
  /** False once the call's answer has been sent. */
  open: boolean;
  /** The caller's User-Agent header, kept in the operation log (which Overseer core made a call). */
  agent?: string | undefined;
}

export const requestScope = new AsyncLocalStorage<RequestScope>();
