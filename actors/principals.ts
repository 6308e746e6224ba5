// The core is the only judge of who acts (DESIGN §11): every call's credential (the caller's API token) is
// resolved here to a principal — the token's id, its name, its role and the person behind it. Nothing a
// message claims about its sender is believed. Verified tokens are cached briefly; a revocation made by this
// core drops its entry at once.
import type { Clock } from '../adapters/clock';
import type { Principal } from '../protocol';
import type { StateStore, TokenRecord } from '../state';
import { hashToken } from '../state';

/** How long a verified token is believed without looking again (a revocation by another process waits this long). */
const CACHE_MS = 5_000;
/** How often a token's last use is written (reads stay cheap under load). */
const TOUCH_EVERY_MS = 60_000;
const MAX_CACHED = 10_000;

export const principalOf = (record: TokenRecord): Principal => ({
  id: record.id,
  name: record.name,
  role: record.role,
  person: record.person,
});

export class PrincipalResolver {
  private readonly cache = new Map<string, { principal: Principal; until: number }>();
  private readonly touched = new Map<string, number>();

  constructor(
    private readonly store: StateStore,
    private readonly clock: Clock,
  ) {}

  /** The principal a credential belongs to, or undefined for an unknown, revoked or malformed one. */
  authenticate(credential: string): Principal | undefined {
    const now = this.clock.now();
    const hash = hashToken(credential);
    const cached = this.cache.get(hash);
    if (cached && cached.until > now) return cached.principal;
    const record = this.store.tokens.verify(credential);
    if (!record) {
      this.cache.delete(hash);
      return undefined;
    }
    if (this.cache.size >= MAX_CACHED) this.cache.clear();
    const principal = principalOf(record);
    this.cache.set(hash, { principal, until: now + CACHE_MS });
    if (now - (this.touched.get(record.id) ?? 0) > TOUCH_EVERY_MS) {
      this.touched.set(record.id, now);
      this.store.tokens.touch(record.id, now);
    }
    return principal;
  }

  /** A token was revoked here: forget it now. */
  revoked(tokenId: string): void {
    for (const [hash, entry] of this.cache) if (entry.principal.id === tokenId) this.cache.delete(hash);
  }
}
