// The principals the core verified lately, held a few seconds at the gateway and keyed by the SHA-256 of the token
// (the token itself is never a key). It spares only the gateway's own `auth` round trip, and only on the routes
// whose one call to the core carries the credential and is authenticated by the core itself (submit, approve,
// deny, cancel: RouteSpec.coreAuthenticates): the gateway's early answers (rate limit, role) use the cached
// principal, the core still verifies the credential of every call. A token the core refuses is dropped at once,
// and so is a token revoked through this gateway.
import { hash } from 'node:crypto';
import type { Principal } from '../protocol';
import type { GatewayClock } from './deps';

/** How long a principal the core verified is believed for the early checks. */
export const PRINCIPAL_CACHE_MS = 5_000;
/** Tokens held at most; one more empties the cache (it refills from the next `auth` answers). */
export const PRINCIPAL_CACHE_MAX = 10_000;

/** One-shot SHA-256 (crypto.hash: no Hash object per call). */
const keyOf = (token: string): string => hash('sha256', token, 'base64');

export class PrincipalCache {
  private readonly entries = new Map<string, { principal: Principal; until: number }>();

  constructor(
    private readonly clock: Pick<GatewayClock, 'now'>,
    private readonly ttlMs = PRINCIPAL_CACHE_MS,
    private readonly maxEntries = PRINCIPAL_CACHE_MAX,
  ) {
    if (!(ttlMs > 0)) throw new RangeError(`the principal cache's lifetime must be > 0 ms (got ${ttlMs})`);
  }

  /** The principal the core verified for `token` less than the lifetime ago, if any. */
  get(token: string): Principal | undefined {
    const key = keyOf(token);
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until > this.clock.now()) return entry.principal;
    this.entries.delete(key);
    return undefined;
  }

  /** The core just verified `token` as `principal`. */
  set(token: string, principal: Principal): void {
    if (this.entries.size >= this.maxEntries) this.entries.clear();
    this.entries.set(keyOf(token), { principal, until: this.clock.now() + this.ttlMs });
  }

  /** The core refused `token`: it is not believed again without asking. */
  forget(token: string): void {
    this.entries.delete(keyOf(token));
  }

  /** A token was revoked (by its id): every entry for it goes. */
  forgetId(tokenId: string): void {
    for (const [key, entry] of this.entries) if (entry.principal.id === tokenId) this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }
}
