// Settling a promise early when an AbortSignal fires, shared by the adapters that cancel I/O (Proxmox, SSH,
// notifications).

/**
 * Settles like `promise`, or rejects with the signal's reason as soon as it is aborted (at once when it already
 * is), so I/O that ignores its signal cannot hang its caller. The promise's own later rejection is then handled:
 * it never surfaces as an unhandled rejection.
 */
export function raceAbort<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => {});
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      promise.catch(() => {});
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', onAbort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(e);
      },
    );
  });
}
