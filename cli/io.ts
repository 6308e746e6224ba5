// What the CLI touches outside itself, injected so tests run it in-process.
export interface CliIO {
  /** Writes text as is (the CLI adds the newlines). */
  stdout(text: string): void;
  stderr(text: string): void;
  fetch?: typeof fetch;
  /** Pauses between polls and reconnects; aborts with `signal`. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Ends `events` and `--wait` (Ctrl-C). */
  signal?: AbortSignal;
  readFile?: (path: string) => Promise<string>;
  /** Directory the data dir is relative to. Default process.cwd(). */
  cwd?: string;
  /** The clock ages are measured against (epoch ms). Default Date.now. */
  now?: () => number;
}

export type CliEnv = Readonly<Record<string, string | undefined>>;

export function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
