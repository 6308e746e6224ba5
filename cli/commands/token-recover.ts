// token recover: access back when no admin token works, for whoever operates the host. Runs on the host, on the data
// dir's files (the SQLite database and the audit key): no gateway, no token. The work is in actors/token-recovery.ts
// (a host command, like `serve`), imported only when this command runs.

import { CliError } from '../errors';
import { EXIT } from '../exit-codes';
import { json } from '../format';
import { str } from './args';
import { dataDirOf } from './nats-credentials';
import type { Command } from './types';

export const tokenRecoverCommand: Command = {
  name: 'token recover',
  local: true,
  usage: '[--name <name>] [--print] [--data-dir <dir>]',
  summary:
    "On Overseer's host: create a new admin token from the data dir's files (admin.token, 0600; --print: stdout), audited",
  args: 0,
  options: { name: { type: 'string' }, print: { type: 'boolean' }, 'data-dir': { type: 'string' } },
  async run(ctx) {
    const cwd = ctx.io.cwd ?? process.cwd();
    const dataDir = dataDirOf(str(ctx.values, 'data-dir') ?? ctx.env.OVERSEER_DATA_DIR, cwd);
    const print = ctx.values.print === true;
    const { recoverAdminToken } = await import('../../actors/token-recovery');
    let recovered: Awaited<ReturnType<typeof recoverAdminToken>>;
    try {
      recovered = recoverAdminToken({ dataDir, env: ctx.env, name: str(ctx.values, 'name'), writeFile: !print });
    } catch (err) {
      // Every refusal (no database, another schema, no key, a bad name, a busy database) in its own words.
      throw new CliError(`token recover: ${(err as Error).message}`, EXIT.error, { cause: err });
    }
    const { id, name, role, file, token } = recovered;
    if (ctx.json) ctx.out(json(print ? { id, name, role, token } : { id, name, role, file }));
    else if (print) {
      ctx.out(`${token}\n`);
      ctx.err(`admin token ${id} (${name}) created; it is shown only this once (audited as token.recovered)\n`);
    } else {
      ctx.out(`admin token ${id} (${name}) created; it is in ${file} (mode 0600); audited as token.recovered\n`);
    }
    return EXIT.ok;
  },
};
