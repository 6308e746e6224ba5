// Authorization matrix against the REAL core: every route of the gateway's route table × role × token state.
// No token, a malformed header, an unknown token and a revoked one (revoked through DELETE /v1/tokens/:id) are 401;
// a valid token below the route's role is 403; a valid token with enough role reaches the route (2xx with the
// fixtures below). The matrix is generated from the route table, so a new route is covered without editing this.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteSpec } from '../../gateway';
import type { Role } from '../../protocol';
import { ROLE_RANK, ROLES, TERMINAL_REQUEST_STATUSES } from '../../protocol';
import type { ResilienceStack, StackToken } from './stack';
import { createStack, inconsistentRequests, settle } from './stack';

const TOKEN_STATES = ['none', 'malformed', 'bad', 'revoked', 'valid'] as const;
type TokenState = (typeof TOKEN_STATES)[number];

/** Bodies that are valid for the route (by `method path`); commands take an optional reason. */
const BODIES: Record<string, unknown> = {
  'post /v1/requests': { action: 'snapshot', target: 'lab/101', params: { snapname: 'matrix' } },
  'post /v1/tokens': { name: 'matrix', role: 'observer' },
};

interface Cell {
  spec: RouteSpec;
  role: Role;
  state: TokenState;
  status: number;
}

interface Prepared {
  path: string;
  body?: string;
  /** False when this suite has no fixture for the route (a new route): 400/404/409 are then accepted. */
  known: boolean;
  /** A request created for this cell: waited for until it rests, so the next fixture is not in conflict. */
  requestId?: string;
}

const label = (spec: RouteSpec) => `${spec.method.toUpperCase()} ${spec.path}`;

describe('authorization matrix over the route table', () => {
  let stack: ResilienceStack;
  let requester: StackToken;
  let existingRequestId: string;
  let existingTokenId: string;
  const revoked = {} as Record<Role, StackToken>;
  let seq = 0;

  const request = (method: string, path: string, authorization: string | undefined, body?: string) =>
    stack.app.request(path, {
      method,
      headers: {
        ...(authorization !== undefined ? { authorization } : {}),
        ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body } : {}),
    });

  /** A production stop awaiting a second person's approval, submitted with `by`'s token through the API. */
  const awaitingRequest = async (by: StackToken): Promise<string> => {
    const res = await request(
      'POST',
      '/v1/requests',
      `Bearer ${by.token}`,
      JSON.stringify({ action: 'stop', target: 'lab/114', force: true }),
    );
    const answer = (await res.json()) as { id: string; decision: string; reasons: string[] };
    expect(res.status).toBe(201);
    expect(answer.decision, answer.reasons.join('; ')).toBe('awaiting_approval');
    return answer.id;
  };

  /** Waits until the cell's request rests; one left awaiting approval is cancelled, freeing its VM. */
  const untilRests = async (id: string): Promise<void> => {
    const status = () => stack.store.requests.get(id)?.status;
    const rests = () => {
      const s = status();
      return s !== undefined && (TERMINAL_REQUEST_STATUSES.has(s) || s === 'awaiting_approval');
    };
    for (let i = 0; i < 200 && !rests(); i++) await settle(1);
    expect(rests(), `request ${id} is ${status()}`).toBe(true);
    if (status() === 'awaiting_approval') {
      expect(stack.overseer.cancel(id, { id: requester.name, role: 'admin' }).ok).toBe(true);
    }
  };

  /** The path and body of one cell; fresh ids for cells that reach the handler, placeholders for the rest. */
  const prepare = async (spec: RouteSpec, role: Role, reaches: boolean): Promise<Prepared> => {
    let known = true;
    let requestId: string | undefined;
    const names = [...spec.path.matchAll(/:([A-Za-z_][A-Za-z0-9_]*)/g)].map((m) => m[1]!);
    const values = new Map<string, string>();
    for (const name of names) {
      if (name === 'cluster') values.set(name, 'lab');
      else if (name === 'vmid') values.set(name, '101');
      else if (name === 'id' && spec.path.startsWith('/v1/requests/')) {
        if (!reaches || spec.method === 'get') values.set(name, existingRequestId);
        else {
          // Approving needs someone else's request; denying or cancelling one's own is always allowed.
          requestId = await awaitingRequest(spec.path.endsWith('/approve') ? requester : stack.tokens[role]);
          values.set(name, requestId);
        }
      } else if (name === 'id' && spec.path.startsWith('/v1/tokens/')) {
        values.set(name, reaches ? stack.createToken(`matrix-victim-${++seq}`, 'observer').id : existingTokenId);
      } else {
        known = false;
        values.set(name, 'x');
      }
    }
    const path = spec.path.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, (_, name: string) =>
      encodeURIComponent(values.get(name)!),
    );
    // Snapshots are read from the platform, and this stack has none: the route answers, with a refusal.
    if (spec.path.endsWith('/snapshots')) known = false;
    let body: string | undefined;
    const key = `${spec.method} ${spec.path}`;
    if (Object.hasOwn(BODIES, key)) body = JSON.stringify(BODIES[key]);
    else if (/\/(approve|deny|cancel)$/.test(spec.path)) body = JSON.stringify({ reason: 'matrix' });
    else if (spec.body && !spec.bodyOptional) {
      known = false;
      body = '{}';
    }
    return { path, known, ...(body !== undefined ? { body } : {}), ...(requestId ? { requestId } : {}) };
  };

  const authorization = (state: TokenState, role: Role): string | undefined => {
    const valid = stack.tokens[role].token;
    switch (state) {
      case 'none':
        return undefined;
      case 'malformed':
        return { observer: 'Basic dXNlcjpwYXNz', operator: `Token ${valid}`, admin: `Bearer ${valid} extra` }[role];
      case 'bad':
        return `Bearer ovs_${randomBytes(32).toString('base64url')}`;
      case 'revoked':
        return `Bearer ${revoked[role].token}`;
      case 'valid':
        return `Bearer ${valid}`;
    }
  };

  beforeAll(async () => {
    stack = createStack(); // the gateway's default rate limit: no token sends near its burst here
    requester = stack.createToken('matrix-requester', 'admin');
    const existing = await request(
      'POST',
      '/v1/requests',
      `Bearer ${requester.token}`,
      JSON.stringify({ action: 'snapshot', target: 'lab/100', params: { snapname: 'existing' } }),
    );
    expect(existing.status).toBe(201);
    existingRequestId = ((await existing.json()) as { id: string }).id;
    existingTokenId = stack.createToken('matrix-victim-0', 'observer').id;
    // One token per role revoked through the real path: created and revoked with the API, working in between.
    const admin = `Bearer ${stack.tokens.admin.token}`;
    for (const role of ROLES) {
      const res = await request('POST', '/v1/tokens', admin, JSON.stringify({ name: `matrix-revoked-${role}`, role }));
      expect(res.status).toBe(201);
      const created = (await res.json()) as { id: string; token: string };
      expect((await request('GET', '/v1/status', `Bearer ${created.token}`)).status).toBe(200);
      expect((await request('DELETE', `/v1/tokens/${created.id}`, admin)).status).toBe(200);
      revoked[role] = { id: created.id, name: `matrix-revoked-${role}`, role, token: created.token };
    }
  });

  afterAll(async () => {
    await stack?.close();
  });

  it('auth matrix - every route × role × token state answers 401, 403 or reaches the route', async () => {
    const specs = stack.routes.specs;
    const cells: Cell[] = [];
    const problems: string[] = [];

    for (const spec of specs) {
      for (const role of ROLES) {
        for (const state of TOKEN_STATES) {
          const isPublic = spec.role === 'public';
          const enough = isPublic || ROLE_RANK[role] >= ROLE_RANK[spec.role as Role];
          const reaches = isPublic || (state === 'valid' && enough);
          const prepared = await prepare(spec, role, reaches);
          const res = await request(
            spec.method.toUpperCase(),
            prepared.path,
            authorization(state, role),
            prepared.body,
          );
          const contentType = res.headers.get('content-type') ?? '';
          let text = '';
          if (contentType.startsWith('text/event-stream')) {
            const reader = res.body!.getReader();
            text = new TextDecoder().decode((await reader.read()).value);
            await reader.cancel();
          } else text = await res.text();
          if (prepared.requestId) await untilRests(prepared.requestId);
          cells.push({ spec, role, state, status: res.status });

          const where = `${label(spec)} as ${role} with ${state} token → ${res.status} ${text.slice(0, 200)}`;
          const code = () => (JSON.parse(text) as { error?: { code?: string } }).error?.code;
          if (reaches) {
            const ok = res.status < 300 || (!prepared.known && [400, 404, 409].includes(res.status));
            if (!ok) problems.push(`expected the route to answer: ${where}`);
          } else if (state !== 'valid') {
            if (res.status !== 401 || code() !== 'unauthorized' || !res.headers.get('www-authenticate')) {
              problems.push(`expected 401 unauthorized with WWW-Authenticate: ${where}`);
            }
          } else if (res.status !== 403 || code() !== 'forbidden') {
            problems.push(`expected 403 forbidden: ${where}`);
          }
        }
      }
    }

    // The table: one row per route, the status of each role × token state.
    const short: Record<TokenState, string> = {
      none: 'none',
      malformed: 'mal',
      bad: 'bad',
      revoked: 'rev',
      valid: 'ok',
    };
    const width = Math.max(...specs.map((s) => label(s).length)) + 1;
    const group = (role: Role) => `${role}: ${TOKEN_STATES.map((s) => short[s].padStart(4)).join('')}`;
    const lines = [
      `auth matrix: ${specs.length} routes × ${ROLES.length} roles × ${TOKEN_STATES.length} token states = ${cells.length} requests`,
      `${'route'.padEnd(width)}${'needs'.padEnd(9)}| ${ROLES.map(group).join(' | ')}`,
    ];
    for (const spec of specs) {
      const row = ROLES.map((role) => {
        const statuses = TOKEN_STATES.map((state) =>
          String(cells.find((c) => c.spec === spec && c.role === role && c.state === state)!.status).padStart(4),
        ).join('');
        return `${' '.repeat(role.length + 1)} ${statuses}`;
      });
      lines.push(`${label(spec).padEnd(width)}${spec.role.padEnd(9)}| ${row.join(' | ')}`);
    }
    const tally = new Map<number, number>();
    for (const c of cells) tally.set(c.status, (tally.get(c.status) ?? 0) + 1);
    lines.push(
      `statuses: ${[...tally.entries()]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}:${n}`)
        .join(' ')}`,
    );
    console.log(lines.join('\n'));

    expect(problems).toEqual([]);
    expect(cells.length).toBe(specs.length * ROLES.length * TOKEN_STATES.length);
    // Every route of the table was covered, including the token routes.
    expect(new Set(cells.map((c) => c.spec))).toEqual(new Set(specs));
    expect(specs.some((s) => s.path === '/v1/tokens/:id' && s.method === 'delete')).toBe(true);
    // What the table declares: the token routes are admin-only and nothing under /v1 is public.
    expect(specs.filter((s) => s.path.startsWith('/v1/tokens')).map((s) => s.role)).toEqual([
      'admin',
      'admin',
      'admin',
    ]);
    expect(specs.filter((s) => s.path.startsWith('/v1/') && s.role === 'public')).toEqual([]);
    // Revoked tokens are listed as revoked; the state is sound afterwards.
    const listed = await request('GET', '/v1/tokens', `Bearer ${stack.tokens.admin.token}`);
    const items = ((await listed.json()) as { items: { id: string; revokedAt?: number }[] }).items;
    for (const role of ROLES) expect(items.find((t) => t.id === revoked[role].id)?.revokedAt).toBeTypeOf('number');
    expect(stack.store.audit.verify().ok).toBe(true);
    expect(inconsistentRequests(stack.store)).toEqual([]);
  }, 60_000);
});
