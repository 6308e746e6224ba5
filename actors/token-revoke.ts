// The core's `tokenRevoke`: revokes an API token, audited — but never the last active admin token, which would lock
// every administrator out (only `overseer token recover` on the host could bring access back). The check and the
// revocation are one transaction, so two admins revoking each other at once cannot both succeed.
import type { Clock } from '../adapters/clock';
import type { Principal } from '../protocol';
import { InputRefusedError } from '../protocol';
import type { StateStore } from '../state';
import type { PrincipalResolver } from './principals';

export function revokeToken(
  deps: { store: StateStore; clock: Clock; principals: Pick<PrincipalResolver, 'revoked'> },
  { id }: { id: string },
  by: Principal,
): { ok: boolean } {
  const { store, clock, principals } = deps;
  const at = clock.now();
  const ok = store.transaction(() => {
    const target = store.tokens.get(id);
    if (target && target.revokedAt === undefined && target.role === 'admin') {
      const otherAdmins = store.tokens
        .list()
        .filter((t) => t.role === 'admin' && t.revokedAt === undefined && t.id !== id);
      if (otherAdmins.length === 0) {
        throw new InputRefusedError(
          `token ${id} (${target.name}) is the last active admin token: revoking it would leave no one able to administer Overseer; create another admin token first (overseer token create --role admin), then revoke this one`,
          'id',
        );
      }
    }
    const revoked = store.tokens.revoke(id, at);
    if (revoked) store.audit.append({ at, actor: by.id, kind: 'token.revoked', data: { id } });
    return revoked;
  });
  if (ok) principals.revoked(id);
  return { ok };
}
