// Credentials for proxmox-api's engine: an API token (stateless), or a ticket from POST /access/ticket that
// is renewed by the injected clock well before PVE's two-hour lifetime ends.
import { ProxmoxEngine, type ProxmoxEngineOptions } from 'proxmox-api';
import type { Clock } from '../clock';
import type { Log } from '../log';
import { MalformedAnswerError } from '../platform/errors';
import { type ResolvedConfig, urlHost } from './config';
import type { EngineFetch } from './transport';

/** PVE tickets live 2 h; a new one is fetched after 1 h 45 min. */
export const TICKET_RENEW_AFTER_MS = 105 * 60 * 1000;

interface Ticket {
  ticket: string;
  csrf: string;
  /** clock ms */
  at: number;
}

/** Runs `login` (a POST /access/ticket under its own timeout) and returns what it got. */
export type LoginRunner = (login: (fetch: EngineFetch) => Promise<{ ticket: string; csrf: string }>) => Promise<{
  ticket: string;
  csrf: string;
}>;

export class AuthSession {
  private current: Ticket | undefined;
  private pending: Promise<Ticket> | undefined;

  constructor(
    private readonly config: ResolvedConfig,
    private readonly clock: Clock,
    private readonly log: Log,
  ) {}

  get mode(): 'token' | 'ticket' {
    return this.config.auth.type;
  }

  /** Ticket mode: a valid ticket (logging in or renewing first when needed). Token mode: nothing to do. */
  async ensure(runLogin: LoginRunner): Promise<void> {
    if (this.config.auth.type !== 'ticket') return;
    const t = this.current;
    if (t && this.clock.now() - t.at < TICKET_RENEW_AFTER_MS) return;
    this.pending ??= this.login(runLogin, t !== undefined).finally(() => {
      this.pending = undefined;
    });
    await this.pending;
  }

  /** An engine for one call, sending through `fetch` with the session's credentials. */
  engine(fetch: EngineFetch): ProxmoxEngine {
    const engine = new ProxmoxEngine(this.options(fetch));
    if (this.config.auth.type === 'ticket' && this.current) {
      engine.ticket = this.current.ticket;
      engine.CSRFPreventionToken = this.current.csrf;
    }
    return engine;
  }

  /** After a call: the engine logs in again by itself on "invalid PVE ticket"; keep what it got. */
  adopt(engine: ProxmoxEngine): void {
    if (this.config.auth.type !== 'ticket') return;
    const { ticket, CSRFPreventionToken } = engine;
    if (ticket && CSRFPreventionToken && ticket !== this.current?.ticket) {
      this.current = { ticket, csrf: CSRFPreventionToken, at: this.clock.now() };
    }
  }

  /** Forget the ticket (e.g. after the server refused it). */
  invalidate(): void {
    this.current = undefined;
  }

  private options(fetch: EngineFetch): ProxmoxEngineOptions {
    const common = {
      host: urlHost(this.config.host),
      port: this.config.port,
      schema: this.config.protocol,
      // The engine keeps its own wall-clock timer and AbortSignal per call; the call's fetch ignores the signal (the
      // injected clock decides when a call has taken too long). The engine clears its timer when the answer arrives,
      // so with the call's own timeout it never fires for a call that answered; only a call whose fetch failed leaves
      // it to run out, aborting a signal nobody listens to. (With 1 ms, as before, it fired on every call: an abort
      // and a DOMException with its stack, bench/README.md session 6.)
      queryTimeout: this.config.timeoutMs,
      authTimeout: this.config.timeoutMs,
      fetch: fetch as unknown as ProxmoxEngineOptions['fetch'],
    };
    const auth = this.config.auth;
    return auth.type === 'token'
      ? { ...common, tokenID: auth.tokenId, tokenSecret: auth.secret }
      : { ...common, username: auth.username, password: auth.password };
  }

  private async login(runLogin: LoginRunner, renewal: boolean): Promise<Ticket> {
    const got = await runLogin(async (fetch) => {
      const engine = new ProxmoxEngine(this.options(fetch));
      const { ticket, CSRFPreventionToken } = await engine.getTicket();
      if (typeof ticket !== 'string' || !ticket || typeof CSRFPreventionToken !== 'string' || !CSRFPreventionToken) {
        throw new MalformedAnswerError(
          `${this.config.name}: POST /access/ticket answered without a ticket or CSRFPreventionToken`,
          this.config.name,
          '/access/ticket',
        );
      }
      return { ticket, csrf: CSRFPreventionToken };
    });
    this.current = { ...got, at: this.clock.now() };
    this.log.info(`${this.config.name}: ${renewal ? 'renewed' : 'obtained'} a PVE ticket`);
    return this.current;
  }
}
