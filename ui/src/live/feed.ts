// The live event feed: one EventSource on /v1/events?filter=overseer.evt.> (same origin, the session cookie).
// Messages are only queued as they arrive; once per animation frame the queue is drained within a time budget
// (parsed and handed over as one batch), so a burst of thousands of events a second costs the page a few
// milliseconds a frame, never a frozen tab. A tab in the background (no frames) is drained by a slow timer; a queue
// that grows past its bound is dropped and the page reloads its data instead (`resync`).
// Reconnection: the browser reconnects by itself and resumes with Last-Event-ID; a stream that was closed for good
// (an HTTP error) is reopened with a growing pause, resuming after the last id seen (?lastEventId=).

export type ConnState = 'connecting' | 'live' | 'reconnecting';

/** One event: its subject's tokens after `evt` (`['vm', 'lab', '101', 'state']`) and its payload. */
export interface LiveEvent {
  subject: string;
  tokens: string[];
  payload: Record<string, unknown>;
}

export interface FeedHandlers {
  /** A batch of events, in order, once per frame. */
  batch(events: LiveEvent[]): void;
  /** Events may have been lost: reload what is shown. */
  resync(reason: string): void;
  state(state: ConnState): void;
  /** The server closed the stream for good (401, 429, 503...): worth checking the session. */
  closed(): void;
}

const FILTER = 'overseer.evt.>';
/** Main-thread time one frame may spend on events (ms). */
const FRAME_BUDGET_MS = 4;
/** Events queued beyond this are dropped for a reload. */
const MAX_QUEUE = 50_000;
const HIDDEN_TAB_DRAIN_MS = 1000;
const MAX_BACKOFF_MS = 30_000;

export function parseEvent(data: string): LiveEvent | undefined {
  let message: { subject?: unknown; payload?: unknown };
  try {
    message = JSON.parse(data) as typeof message;
  } catch {
    return undefined;
  }
  if (typeof message.subject !== 'string') return undefined;
  const all = message.subject.split('.');
  const at = all.indexOf('evt');
  if (at < 0) return undefined;
  const payload = typeof message.payload === 'object' && message.payload !== null ? message.payload : {};
  return { subject: message.subject, tokens: all.slice(at + 1), payload: payload as Record<string, unknown> };
}

export class EventFeed {
  private source: EventSource | undefined;
  private queue: string[] = [];
  private head = 0;
  private frame: number | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private backoff = 1000;
  private lastId: string | undefined;
  private readyOnce = false;
  private stopped = true;
  /** Events received since start (for the health view). */
  received = 0;

  constructor(private readonly handlers: FeedHandlers) {}

  start(): void {
    this.stopped = false;
    this.open();
  }

  stop(): void {
    this.stopped = true;
    this.source?.close();
    this.source = undefined;
    if (this.frame !== undefined) cancelAnimationFrame(this.frame);
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.retry !== undefined) clearTimeout(this.retry);
    this.frame = this.timer = this.retry = undefined;
    this.queue = [];
    this.head = 0;
  }

  /** Events waiting for the next frame. */
  get pending(): number {
    return this.queue.length - this.head;
  }

  private open(): void {
    this.handlers.state(this.readyOnce ? 'reconnecting' : 'connecting');
    const resume = this.lastId !== undefined ? `&lastEventId=${encodeURIComponent(this.lastId)}` : '';
    const source = new EventSource(`/v1/events?filter=${encodeURIComponent(FILTER)}${resume}`);
    this.source = source;
    source.addEventListener('ready', (e) => {
      const ready = parseReady((e as MessageEvent<string>).data);
      // A stream that cannot resume after a gap may have lost events: reload what is shown.
      if (this.readyOnce && !ready.resumable) this.handlers.resync('the event stream restarted without replay');
      this.readyOnce = true;
      this.backoff = 1000;
      this.handlers.state('live');
    });
    source.addEventListener('dropped', () => this.handlers.resync('the server dropped events for this page'));
    source.onmessage = (e: MessageEvent<string>) => {
      if (e.lastEventId) this.lastId = e.lastEventId;
      this.received += 1;
      this.queue.push(e.data);
      if (this.queue.length - this.head > MAX_QUEUE) {
        this.queue = [];
        this.head = 0;
        this.handlers.resync('too many events waited for this page');
        return;
      }
      this.schedule();
    };
    source.onerror = () => {
      if (this.stopped || this.source !== source) return;
      if (source.readyState === EventSource.CLOSED) {
        // Closed for good (an HTTP error such as 401, 429 or 503): open again after a pause.
        this.source = undefined;
        this.handlers.state('reconnecting');
        this.handlers.closed();
        this.retry = setTimeout(() => {
          this.retry = undefined;
          if (!this.stopped) this.open();
        }, this.backoff);
        this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
      } else {
        this.handlers.state('reconnecting');
      }
    };
  }

  private schedule(): void {
    if (this.frame === undefined) this.frame = requestAnimationFrame(() => this.drain());
    if (this.timer === undefined) this.timer = setTimeout(() => this.drain(), HIDDEN_TAB_DRAIN_MS);
  }

  private drain(): void {
    if (this.frame !== undefined) cancelAnimationFrame(this.frame);
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.frame = this.timer = undefined;
    const started = performance.now();
    const batch: LiveEvent[] = [];
    // A background tab drains everything at once (nothing is painted meanwhile).
    const budget = document.hidden ? Number.POSITIVE_INFINITY : FRAME_BUDGET_MS;
    while (this.head < this.queue.length) {
      const event = parseEvent(this.queue[this.head]!);
      this.head += 1;
      if (event) batch.push(event);
      if ((batch.length & 63) === 0 && performance.now() - started > budget) break;
    }
    if (this.head >= this.queue.length) {
      this.queue = [];
      this.head = 0;
    } else if (this.head > 4096) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (batch.length > 0) this.handlers.batch(batch);
    if (this.head < this.queue.length) this.schedule();
  }
}

function parseReady(data: string): { resumable: boolean } {
  try {
    return { resumable: Boolean((JSON.parse(data) as { resumable?: unknown }).resumable) };
  } catch {
    return { resumable: false };
  }
}
