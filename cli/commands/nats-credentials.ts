// nats-credentials: ready-to-use read-only credentials for the embedded NATS server of a data dir (the one `npm start`
// runs), so an operator can follow and replay every event with the `nats` CLI. The user 'events' may subscribe to the
// events and replay the events stream, nothing else. Reads the data dir (OVERSEER_DATA_DIR, default ./data, or
// --data-dir) like the admin token: no gateway is asked. With --json: a NATS context file for `nats --context`.
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { DEFAULT_DATA_DIR } from '../config';
import { CliError } from '../errors';
import { EXIT } from '../exit-codes';
import { json } from '../format';
import { str } from './args';
import type { Command } from './types';

// Written by `overseer serve` at each start of its embedded server (adapters/nats/server-config.ts,
// EMBEDDED_NATS_FILES); read here as a client would. tests/security/nats-permissions.test.ts runs both ends.
const ENDPOINT_FILE = 'nats-endpoint.json';
const USERS_FILE = 'nats-users.json';
const READ_ONLY_USER = 'events';

/** What the read-only user needs to know. */
export interface ReadOnlyNatsAccess {
  url: string;
  user: string;
  password: string;
  /** Its clients' inbox prefix (the only inboxes it may subscribe to). */
  inboxPrefix: string;
  /** Every event: `overseer.evt.>` (`overseer.<ns>.evt.>` with a namespace). */
  events: string;
  /** The JetStream stream keeping them. */
  stream: string;
}

/** A NATS CLI context (the file `nats context` keeps under ~/.config/nats/context/<name>.json). */
export interface NatsContext {
  description: string;
  url: string;
  user: string;
  password: string;
  inbox_prefix: string;
}

type ReadText = (path: string) => Promise<string>;

export function dataDirOf(value: string | undefined, cwd: string): string {
  const dir = value?.trim() || DEFAULT_DATA_DIR;
  return isAbsolute(dir) ? dir : join(cwd, dir);
}

async function readJson(path: string, read: ReadText, what: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = await read(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? `${path} does not exist: start Overseer on its embedded NATS server once (npm start); with NATS_URL the read-only user is your server's (deploy/nats-server.conf, user 'events')`
        : `cannot read ${path} (${(err as Error).message}): run this as the user Overseer runs as`;
    throw new CliError(`no ${what}: ${why}`, EXIT.error, { cause: err });
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object') return parsed as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new CliError(`${path} is not the JSON object Overseer writes`, EXIT.error);
}

/** The read-only access to the embedded NATS server recorded in `dataDir`. */
export async function readOnlyNatsAccess(dataDir: string, read: ReadText): Promise<ReadOnlyNatsAccess> {
  const endpoint = await readJson(join(dataDir, ENDPOINT_FILE), read, 'embedded NATS server recorded');
  const users = await readJson(join(dataDir, USERS_FILE), read, 'NATS passwords');
  const field = (record: Record<string, unknown>, key: string, file: string): string => {
    const value = record[key];
    if (typeof value !== 'string' || value === '') {
      throw new CliError(`${join(dataDir, file)} has no '${key}'`, EXIT.error);
    }
    return value;
  };
  return {
    url: field(endpoint, 'url', ENDPOINT_FILE),
    user: READ_ONLY_USER,
    password: field(users, READ_ONLY_USER, USERS_FILE),
    inboxPrefix: field(endpoint, 'eventsInboxPrefix', ENDPOINT_FILE),
    events: field(endpoint, 'events', ENDPOINT_FILE),
    stream: field(endpoint, 'stream', ENDPOINT_FILE),
  };
}

export function natsContext(access: ReadOnlyNatsAccess): NatsContext {
  return {
    description: `Overseer events, read-only (${access.events}, stream ${access.stream})`,
    url: access.url,
    user: access.user,
    password: access.password,
    inbox_prefix: access.inboxPrefix,
  };
}

/** Quotes for a POSIX shell. */
const sh = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

export function natsCommandLines(access: ReadOnlyNatsAccess): string {
  const nats = `nats --server ${access.url} --user ${access.user} --password ${sh(access.password)} --inbox-prefix ${access.inboxPrefix}`;
  return `Read-only NATS access to Overseer's events (user '${access.user}': subscribe and replay, nothing else).

Follow every event:
  ${nats} sub ${sh(access.events)}
Replay what the stream ${access.stream} kept, then follow:
  ${nats} sub --stream ${access.stream} --all
  ${nats} stream view ${access.stream}
As a NATS context:
  overseer nats-credentials --json > ~/.config/nats/context/overseer-events.json
  nats --context overseer-events sub ${sh(access.events)}
`;
}

export const natsCredentialsCommand: Command = {
  name: 'nats-credentials',
  local: true,
  usage: '[--data-dir <dir>]',
  summary: "Print read-only credentials for the embedded NATS server (follow and replay events with 'nats')",
  args: 0,
  options: { 'data-dir': { type: 'string' } },
  async run(ctx) {
    const cwd = ctx.io.cwd ?? process.cwd();
    const dataDir = dataDirOf(str(ctx.values, 'data-dir') ?? ctx.env.OVERSEER_DATA_DIR, cwd);
    const access = await readOnlyNatsAccess(dataDir, ctx.io.readFile ?? ((p: string) => readFile(p, 'utf8')));
    ctx.out(ctx.json ? json(natsContext(access)) : natsCommandLines(access));
    return EXIT.ok;
  },
};
