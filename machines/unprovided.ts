// Default implementations for the actors a machine names but the runtime supplies with `.provide()`.
// Running a machine without providing them fails loudly instead of silently doing nothing.
import { fromCallback, fromPromise } from 'xstate';

export class NotProvidedError extends Error {
  override name = 'NotProvidedError';
  constructor(what: string) {
    super(`'${what}' must be supplied with .provide() before the machine runs`);
  }
}

export function unprovidedPromise<TOutput, TInput>(what: string) {
  return fromPromise<TOutput, TInput>(async () => {
    throw new NotProvidedError(what);
  });
}

export function unprovidedCallback<TEvent extends { type: string }, TInput>(what: string) {
  return fromCallback<TEvent, TInput>(() => {
    throw new NotProvidedError(what);
  });
}
