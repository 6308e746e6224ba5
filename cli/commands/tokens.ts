// token create | list | revoke (admin): API tokens, through the gateway.
import type { TokenInfo } from '../../protocol';
import { EXIT } from '../exit-codes';
import { json, table, time } from '../format';
import { id, int, oneOf, required } from './args';
import type { Command } from './types';

const ROLES = ['observer', 'operator', 'admin'] as const;

export const tokenCreateCommand: Command = {
  name: 'token create',
  usage: '--name <name> --role observer|operator|admin [--same-person-as <token id>]',
  summary: "Create an API token (printed once); --same-person-as: it belongs to that token's person",
  args: 0,
  options: { name: { type: 'string' }, role: { type: 'string' }, 'same-person-as': { type: 'string' } },
  async run(ctx) {
    required(ctx.values, 'role');
    const samePersonAs = ctx.values['same-person-as'];
    const body = {
      name: required(ctx.values, 'name'),
      role: oneOf(ctx.values, 'role', ROLES),
      ...(typeof samePersonAs === 'string' ? { samePersonAs: id(samePersonAs, 'token') } : {}),
    };
    const created = await ctx.client.post<{ id: string; name: string; role: string; token: string }>(
      '/v1/tokens',
      body,
    );
    if (ctx.json) ctx.out(json(created));
    else {
      ctx.out(`${created.token}\n`);
      ctx.err(`token ${created.id} (${created.name}, ${created.role}) created; it is shown only this once\n`);
    }
    return EXIT.ok;
  },
};

export const tokenListCommand: Command = {
  name: 'token list',
  usage: '[--limit n] [--offset n]',
  summary: 'List API tokens (never their secrets)',
  args: 0,
  options: { limit: { type: 'string' }, offset: { type: 'string' } },
  async run(ctx) {
    const page = await ctx.client.get<{ items: TokenInfo[]; total: number }>('/v1/tokens', {
      limit: int(ctx.values, 'limit', 1),
      offset: int(ctx.values, 'offset', 0),
    });
    const { items } = page;
    if (ctx.json) ctx.out(json(page));
    else {
      ctx.out(
        table(
          ['id', 'name', 'role', 'person', 'created', 'by', 'last used', 'revoked'],
          items.map((t) => [
            t.id,
            t.name,
            t.role,
            t.person === t.id ? '-' : t.person,
            time(t.createdAt),
            t.createdBy,
            time(t.lastUsedAt),
            time(t.revokedAt),
          ]),
        ),
      );
    }
    return EXIT.ok;
  },
};

export const tokenRevokeCommand: Command = {
  name: 'token revoke',
  usage: '<id>',
  summary: 'Revoke an API token',
  args: 1,
  async run(ctx) {
    const tokenId = id(ctx.positionals[0], 'token');
    const answer = await ctx.client.delete<{ id: string; revoked: boolean }>(`/v1/tokens/${tokenId}`);
    ctx.out(ctx.json ? json(answer) : `token ${answer.id} revoked\n`);
    return EXIT.ok;
  },
};
