// API tokens: only a SHA-256 of each token is stored; the plaintext is shown once, when it is created.
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import type { Role } from '../machines/types';
import { StatementCache } from './statements';
import { TABLES } from './tables';

export interface TokenRecord {
  id: string;
  name: string;
  role: Role;
  createdAt: number;
  createdBy: string;
  /** The person the token belongs to: its own id unless an admin said it is another token's person. */
  person: string;
  revokedAt?: number | undefined;
  lastUsedAt?: number | undefined;
}

interface TokenRow {
  id: string;
  name: string;
  role: Role;
  created_at: number;
  created_by: string;
  person: string | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

const T = TABLES.apiTokens;
/** Tokens look like `ovs_<43 base64url characters>` (256 random bits). */
export const TOKEN_PREFIX = 'ovs_';

export const hashToken = (token: string): string => createHash('sha256').update(token).digest('hex');

const toRecord = (r: TokenRow): TokenRecord => ({
  id: r.id,
  name: r.name,
  role: r.role,
  createdAt: r.created_at,
  createdBy: r.created_by,
  person: r.person ?? r.id,
  revokedAt: r.revoked_at ?? undefined,
  lastUsedAt: r.last_used_at ?? undefined,
});

export class TokenRepo {
  private readonly sql: StatementCache;

  constructor(db: Database) {
    this.sql = new StatementCache(db);
  }

  /**
   * Creates a token; returns its record and the plaintext (never stored). `person` links it to an existing
   * person (another token's); by default the token is a person of its own.
   */
  create(
    name: string,
    role: Role,
    createdBy: string,
    at: number,
    person?: string,
  ): { record: TokenRecord; token: string } {
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const id = randomUUID();
    this.sql
      .get(`INSERT INTO ${T} (id, name, role, hash, created_at, created_by, person) VALUES (?, ?, ?, ?, ?, ?, ?)`)
      .run(id, name, role, hashToken(token), at, createdBy, person ?? id);
    return { record: { id, name, role, createdAt: at, createdBy, person: person ?? id }, token };
  }

  /** The live (not revoked) token with this plaintext, or undefined. */
  verify(token: string): TokenRecord | undefined {
    if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return undefined;
    const row = this.sql
      .get<TokenRow>(`SELECT * FROM ${T} WHERE hash = ? AND revoked_at IS NULL`)
      .get(hashToken(token));
    return row ? toRecord(row) : undefined;
  }

  touch(id: string, at: number): void {
    this.sql.get(`UPDATE ${T} SET last_used_at = ? WHERE id = ?`).run(at, id);
  }

  list(): TokenRecord[] {
    return this.sql.get<TokenRow>(`SELECT * FROM ${T} ORDER BY created_at, id`).all().map(toRecord);
  }

  get(id: string): TokenRecord | undefined {
    const row = this.sql.get<TokenRow>(`SELECT * FROM ${T} WHERE id = ?`).get(id);
    return row ? toRecord(row) : undefined;
  }

  /** Revokes a token; false when it does not exist or was already revoked. */
  revoke(id: string, at: number): boolean {
    return this.sql.get(`UPDATE ${T} SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`).run(at, id).changes === 1;
  }

  count(): number {
    return (this.sql.get<{ n: number }>(`SELECT count(*) AS n FROM ${T}`).get()?.n ?? 0) as number;
  }
}
