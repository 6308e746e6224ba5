// Preact hooks over the live store: re-render on a topic, and load data that reloads itself when its topics
// change (throttled, one call in flight, the last answer kept while the next loads) or on a timer.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { messageOf } from '../api/client';
import { store, type Topic } from './store';

/** A number that changes whenever one of the topics changed (at most once per frame). */
export function useTopics(topics: readonly Topic[]): number {
  const [version, setVersion] = useState(0);
  const key = topics.join('|');
  useEffect(() => store.subscribe(topics, () => setVersion((v) => v + 1)), [key]);
  return version;
}

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
}

export interface LoadOptions {
  /** Reload when one of these changes. */
  topics?: readonly Topic[];
  /** At most one reload per this many ms (default 1000). */
  throttleMs?: number;
  /** Reload every this many ms as well. */
  pollMs?: number;
}

export function useLoad<T>(
  load: (signal: AbortSignal) => Promise<T>,
  deps: readonly unknown[],
  options: LoadOptions = {},
): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: string | undefined; loading: boolean }>({
    data: undefined,
    error: undefined,
    loading: true,
  });
  const loadRef = useRef(load);
  loadRef.current = load;
  const trigger = useRef<() => void>(() => undefined);
  const topicsKey = (options.topics ?? []).join('|');
  const throttleMs = options.throttleMs ?? 1000;

  useEffect(() => {
    const controller = new AbortController();
    let inFlight = false;
    let again = false;
    let last = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // A new subject (another VM, another request): the old data is not shown for it.
    setState({ data: undefined, error: undefined, loading: true });
    const run = async () => {
      if (inFlight) {
        again = true;
        return;
      }
      inFlight = true;
      last = Date.now();
      try {
        const data = await loadRef.current(controller.signal);
        if (!controller.signal.aborted) setState({ data, error: undefined, loading: false });
      } catch (error) {
        if (!controller.signal.aborted) setState((s) => ({ data: s.data, error: messageOf(error), loading: false }));
      } finally {
        inFlight = false;
        if (again && !controller.signal.aborted) {
          again = false;
          schedule();
        }
      }
    };
    const schedule = () => {
      if (timer !== undefined || controller.signal.aborted) return;
      timer = setTimeout(
        () => {
          timer = undefined;
          void run();
        },
        Math.max(0, last + throttleMs - Date.now()),
      );
    };
    trigger.current = () => void run();
    void run();
    const unsubscribe = options.topics ? store.subscribe(options.topics, schedule) : undefined;
    const poll = options.pollMs ? setInterval(schedule, options.pollMs) : undefined;
    return () => {
      controller.abort();
      unsubscribe?.();
      if (poll !== undefined) clearInterval(poll);
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [...deps, topicsKey, throttleMs, options.pollMs]);

  const reload = useCallback(() => trigger.current(), []);
  return { ...state, reload };
}
