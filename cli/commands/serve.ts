// serve: runs Overseer itself (actors/main.ts): `--role all` (what `npm start` runs) holds everything in one
// process; `--role core` and `--role gateway` run the parts separately, meeting over NATS. The only command that
// imports actors/ (DESIGN §3), and only when it runs. Its options are actors/main.ts's: keep the two in step.
import { EXIT } from '../exit-codes';
import { oneOf } from './args';
import type { Command } from './types';

const ROLES = ['all', 'core', 'gateway'] as const;

export const serveCommand: Command = {
  name: 'serve',
  local: true,
  json: false,
  usage: '[--role all|core|gateway]',
  summary: 'Run Overseer: the core and the gateway (--role all, the default), or one of them',
  details: `Environment:
  OVERSEER_DATA_DIR   data directory (default ./data)
  OVERSEER_PORT       the gateway's port (default 8001); OVERSEER_HOST its address (default 127.0.0.1)
  OVERSEER_CONFIG     a JSON config file (default $OVERSEER_DATA_DIR/overseer.json when present)
  NATS_URL            a NATS server to use (default: an embedded, locked nats-server), with NATS_USER/NATS_PASS
                      or NATS_NKEY_SEED, and OVERSEER_NAMESPACE
  OVERSEER_INSPECT    ws://host:port to send XState inspection events to
  OVERSEER_GATEWAY_THREAD  on: --role all runs the gateway on a worker thread of its own
Without a configured cluster the embedded PVE simulator (demo cluster 'lab') is used.`,
  args: 0,
  options: { role: { type: 'string' } },
  async run(ctx) {
    const role = oneOf(ctx.values, 'role', ROLES);
    const { main } = await import('../../actors/main');
    await main(role ? ['--role', role] : []);
    return EXIT.ok;
  },
};
