// One notification channel: severity filter, rate limit, a bounded queue (drop-oldest) and a worker that
// delivers one notification at a time with retries. Nothing here throws into notify().
import { raceAbort } from '../abort';
import type { Clock, TimerHandle } from '../clock';
import type { Log } from '../log';
import { NotifyDeliveryError, NotifyTimeoutError } from './errors';
import type { PreparedNotification } from './payloads';
import { prepareNotification } from './payloads';
import type { QuietWindow } from './quiet-hours';
import { quietSpellAt } from './quiet-hours';
import { TokenBucket } from './rate-limit';
import { backoffMs, isRetryable } from './retry';
import type { Transport } from './transports';
import { type ChannelStats, SEVERITY_RANK, type Severity } from './types';

export interface ChannelOptions {
  name: string;
  minSeverity: Severity;
  /** Quiet hours: below their `pass` severity notifications are held back and summed up when they end. */
  quietHours?: readonly QuietWindow[] | undefined;
  rateLimitPerMinute: number;
  queueSize: number;
  maxAttempts: number;
  retryBaseMs: number;
  retryMaxMs: number;
  attemptTimeoutMs: number;
  transport: Transport;
  clock: Clock;
  log: Log;
  /** Aborted by the notifier's close(). */
  closed: AbortSignal;
}

/** What quiet hours hold back: since when, until when, how many of each severity, and the timer of the summary. */
interface HeldBack {
  since: number;
  until: number;
  bySeverity: Partial<Record<Severity, number>>;
  timer: TimerHandle;
}

const describe = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class Channel {
  readonly stats: ChannelStats;
  private readonly queue: PreparedNotification[] = [];
  private readonly bucket: TokenBucket;
  private running = false;
  private idleWaiters: (() => void)[] = [];
  private rateDrops = 0;
  private overflowDrops = 0;
  /** What quiet hours are holding back now, until the summary at their end. */
  private held: HeldBack | undefined;

  constructor(private readonly opts: ChannelOptions) {
    this.bucket = new TokenBucket(opts.clock, opts.rateLimitPerMinute);
    this.stats = {
      type: opts.transport.type,
      sent: 0,
      failed: 0,
      retries: 0,
      filtered: 0,
      rateLimited: 0,
      overflowed: 0,
      queued: 0,
      inFlight: 0,
      abandoned: 0,
      quieted: 0,
    };
  }

  get name(): string {
    return this.opts.name;
  }

  /** Admits a notification (or drops it, counted); starts the worker on the next microtask. */
  offer(p: PreparedNotification): void {
    const { opts } = this;
    if (opts.closed.aborted) return;
    if (SEVERITY_RANK[p.n.severity] < SEVERITY_RANK[opts.minSeverity]) {
      this.stats.filtered++;
      return;
    }
    if (this.holdsBack(p)) return;
    this.admit(p);
  }

  /** Rate limit, then the queue (drop-oldest); starts the worker on the next microtask. */
  private admit(p: PreparedNotification): void {
    const { opts } = this;
    if (!this.bucket.take()) {
      this.stats.rateLimited++;
      if (this.rateDrops++ === 0) {
        opts.log.warn(
          `notify ${opts.name}: rate limit of ${opts.rateLimitPerMinute}/min reached, dropping notifications`,
        );
      }
      return;
    }
    this.reportDrops();
    if (this.queue.length >= opts.queueSize) {
      this.queue.shift();
      this.stats.overflowed++;
      if (this.overflowDrops++ === 0) {
        opts.log.warn(`notify ${opts.name}: queue full (${opts.queueSize}), dropping the oldest notifications`);
      }
    }
    this.queue.push(p);
    this.stats.queued = this.queue.length;
    if (!this.running) {
      this.running = true;
      queueMicrotask(() => void this.run());
    }
  }

  /** During quiet hours a notification below their `pass` severity is held back (counted, summed up at the end). */
  private holdsBack(p: PreparedNotification): boolean {
    const { opts } = this;
    if (!opts.quietHours?.length) return false;
    const now = opts.clock.now();
    const spell = quietSpellAt(opts.quietHours, now);
    if (!spell || SEVERITY_RANK[p.n.severity] >= SEVERITY_RANK[spell.pass]) return false;
    this.stats.quieted++;
    if (!this.held) {
      const until = spell.endsAt;
      opts.log.warn(
        `notify ${opts.name}: quiet hours until ${new Date(until).toISOString()}: holding back notifications below ${spell.pass}`,
      );
      const timer = opts.clock.setTimeout(() => this.quietHoursEnded(), Math.max(0, until - now));
      this.held = { since: now, until, bySeverity: {}, timer };
    }
    const counts = this.held.bySeverity;
    counts[p.n.severity] = (counts[p.n.severity] ?? 0) + 1;
    return true;
  }

  /** Quiet hours are over: one summary of what was held back, sent past the severity filter and quiet hours. */
  private quietHoursEnded(): void {
    const held = this.held;
    this.held = undefined;
    if (!held || this.opts.closed.aborted) return;
    const at = this.opts.clock.now();
    const severities = (['critical', 'warning', 'info'] as const).filter((s) => held.bySeverity[s]);
    const total = severities.reduce((sum, s) => sum + (held.bySeverity[s] ?? 0), 0);
    const detail = severities.map((s) => `${held.bySeverity[s]} ${s}`).join(', ');
    const from = new Date(held.since).toISOString();
    this.opts.log.warn(`notify ${this.opts.name}: quiet hours ended; ${total} notification(s) were held back`);
    this.admit(
      prepareNotification({
        key: `quiet-hours:${this.opts.name}:${held.since}`,
        severity: severities[0] ?? 'info',
        title: `quiet hours ended: ${total} notification${total === 1 ? '' : 's'} held back`,
        text: `${total} notification${total === 1 ? ' was' : 's were'} held back by quiet hours since ${from} (${detail}); they are not sent late: see 'overseer incidents' for what is still open`,
        at,
        data: { heldBack: held.bySeverity, since: held.since, until: held.until },
      }),
    );
  }

  /** Logs one summary line per burst of dropped notifications. */
  reportDrops(): void {
    const { name, rateLimitPerMinute } = this.opts;
    if (this.rateDrops > 0) {
      this.opts.log.warn(
        `notify ${name}: dropped ${this.rateDrops} notification(s) over the rate limit of ${rateLimitPerMinute}/min`,
      );
      this.rateDrops = 0;
    }
    if (this.overflowDrops > 0 && this.queue.length < this.opts.queueSize) {
      this.opts.log.warn(`notify ${name}: dropped ${this.overflowDrops} notification(s) from a full queue`);
      this.overflowDrops = 0;
    }
  }

  /** Resolves when the queue is empty and nothing is in flight. */
  whenIdle(): Promise<void> {
    if (!this.running && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Drops everything queued (counted as abandoned); used by close(). */
  abandonQueued(): void {
    if (this.held) this.opts.clock.clearTimeout(this.held.timer);
    this.held = undefined;
    this.stats.abandoned += this.queue.length;
    this.queue.length = 0;
    this.stats.queued = 0;
  }

  private async run(): Promise<void> {
    try {
      for (;;) {
        const next = this.opts.closed.aborted ? undefined : this.queue.shift();
        if (!next) break;
        this.stats.queued = this.queue.length;
        this.stats.inFlight = 1;
        await this.deliver(next);
        this.stats.inFlight = 0;
      }
    } catch (err) {
      this.opts.log.error(`notify ${this.opts.name}: worker failed unexpectedly`, err);
    } finally {
      this.stats.inFlight = 0;
      this.running = false;
      this.reportDrops();
      for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private async deliver(p: PreparedNotification): Promise<void> {
    const { opts, stats } = this;
    for (let attempt = 1; ; attempt++) {
      try {
        await this.attempt(p);
        stats.sent++;
        stats.lastSentAt = opts.clock.now();
        return;
      } catch (err) {
        if (opts.closed.aborted) {
          stats.abandoned++;
          return;
        }
        if (!isRetryable(err) || attempt >= opts.maxAttempts) {
          stats.failed++;
          stats.lastFailedAt = opts.clock.now();
          stats.lastError = describe(err);
          const failure = new NotifyDeliveryError(
            `notify ${opts.name}: giving up on '${p.n.key}' after ${attempt} attempt(s): ${describe(err)}`,
            opts.name,
            p.n.key,
            attempt,
            { cause: err },
          );
          opts.log.error(failure.message);
          return;
        }
        stats.retries++;
        const retryAfter = (err as { retryAfterMs?: unknown }).retryAfterMs;
        const wait = backoffMs(
          attempt,
          opts.retryBaseMs,
          opts.retryMaxMs,
          typeof retryAfter === 'number' ? retryAfter : undefined,
        );
        try {
          await opts.clock.sleep(wait, opts.closed);
        } catch {
          stats.abandoned++;
          return;
        }
      }
    }
  }

  /** One attempt, aborted by the per-attempt timeout (injected clock) or by close(). */
  private async attempt(p: PreparedNotification): Promise<void> {
    const { opts } = this;
    const controller = new AbortController();
    let timedOut = false;
    const timer = opts.clock.setTimeout(() => {
      timedOut = true;
      controller.abort(
        new NotifyTimeoutError(`attempt timed out after ${opts.attemptTimeoutMs} ms`, opts.attemptTimeoutMs),
      );
    }, opts.attemptTimeoutMs);
    const onClose = () => controller.abort(opts.closed.reason);
    opts.closed.addEventListener('abort', onClose, { once: true });
    try {
      await raceAbort(opts.transport.send(p, controller.signal), controller.signal);
    } catch (err) {
      if (timedOut) {
        throw new NotifyTimeoutError(`attempt timed out after ${opts.attemptTimeoutMs} ms`, opts.attemptTimeoutMs, {
          cause: err,
        });
      }
      throw err;
    } finally {
      opts.clock.clearTimeout(timer);
      opts.closed.removeEventListener('abort', onClose);
    }
  }
}
