// The embedded nats-server's configuration (DESIGN §11: NATS is least-privilege). `npm start` writes it into the
// data dir on every start: JetStream under the data dir, no anonymous access, and three users with generated
// passwords (kept in the data dir and reused across restarts), each allowed only what its role needs:
//   core    — serves the request, query and actor subjects, publishes events (and notifications), answers requests,
//             manages its events stream through the JetStream API;
//   gateway — sends requests and queries, reads their replies and the events, and replays the events stream (an
//             ordered consumer, for SSE clients resuming with Last-Event-ID); nothing else;
//   events  — read-only: subscribes to the events and replays the events stream; publishes nothing of Overseer's.
// Only nats-server 2.9 options are used. The permission subjects come from protocol/subjects.ts.
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { subjects } from '../../protocol';
import { everySubject, toNamespace } from './namespace';
import { eventStreamName } from './streams';

/** The users of the embedded server. */
export const NATS_USERS = ['core', 'gateway', 'events'] as const;
export type NatsUserName = (typeof NATS_USERS)[number];
export type NatsPasswords = Record<NatsUserName, string>;

/**
 * The read-only user's inbox prefix. Its own inboxes (JetStream API replies, consumer deliveries) live there, so it
 * needs no subscription on `_INBOX.>`, where the gateway's request replies (new API tokens among them) travel.
 */
export const EVENTS_INBOX_PREFIX = '_INBOX_events';

/** The files the embedded server keeps in the data dir. */
export const EMBEDDED_NATS_FILES = {
  /** The generated server configuration (0600: it holds the passwords). */
  config: 'nats-server.conf',
  /** `{"core": "...", "gateway": "...", "events": "..."}` (0600), generated once. */
  users: 'nats-users.json',
  /** Where the server listens and what the read-only user needs (see EmbeddedNatsEndpoint), written at each start. */
  endpoint: 'nats-endpoint.json',
  /** The JetStream store directory. */
  store: 'nats',
  log: 'nats-server.log',
} as const;

const INBOX = '_INBOX.>';
const JS_API = '$JS.API';

export interface NatsUserPermissions {
  publish: string[];
  subscribe: string[];
  /** May answer the requests it received (to their reply subjects only). */
  allowResponses: boolean;
}

/**
 * What each user may do. `namespace`: the installation's namespace (OVERSEER_NAMESPACE), none for the embedded
 * default.
 */
export function natsPermissions(namespace?: string): Record<NatsUserName, NatsUserPermissions> {
  const ns = (subject: string) => toNamespace(subject, namespace);
  const stream = eventStreamName(namespace);
  // The request and query subjects, exactly as the core's responder subscribes to them.
  const served = [subjects.reqSubmit, subjects.reqCommandsFilter, subjects.queriesFilter].map(ns);
  return {
    core: {
      // Events, notifications (any `overseer.` subject the config names) and the start-up check for another core.
      publish: [everySubject(namespace), `${JS_API}.>`],
      subscribe: [...served, ns(subjects.allActors), INBOX],
      allowResponses: true,
    },
    gateway: {
      // Requests and queries; and an ordered consumer on the events stream (its deliveries come to _INBOX.>), so an
      // SSE client that reconnects with Last-Event-ID misses nothing. No stream management, no other stream.
      publish: [
        ...served,
        `${JS_API}.STREAM.INFO.${stream}`,
        `${JS_API}.CONSUMER.CREATE.${stream}.>`,
        `${JS_API}.CONSUMER.DELETE.${stream}.>`,
        `${JS_API}.CONSUMER.MSG.NEXT.${stream}.>`,
      ],
      subscribe: [INBOX, ns(subjects.allEvents)],
      allowResponses: false,
    },
    events: {
      // What `nats sub`, `nats sub --all|--since|--stream`, `nats stream view` and the JavaScript client's ordered
      // consumer call on nats-server 2.9, for the events stream only (tests/security/nats-permissions.test.ts).
      publish: [
        `${JS_API}.INFO`,
        `${JS_API}.STREAM.NAMES`,
        `${JS_API}.STREAM.INFO.${stream}`,
        `${JS_API}.CONSUMER.CREATE.${stream}`,
        `${JS_API}.CONSUMER.CREATE.${stream}.>`,
        `${JS_API}.CONSUMER.DELETE.${stream}.>`,
        `${JS_API}.CONSUMER.INFO.${stream}.>`,
        `${JS_API}.CONSUMER.MSG.NEXT.${stream}.>`,
        `$JS.FC.${stream}.>`,
        `$JS.ACK.${stream}.>`,
      ],
      subscribe: [ns(subjects.allEvents), `${EVENTS_INBOX_PREFIX}.>`],
      allowResponses: false,
    },
  };
}

const PASSWORD_BYTES = 24;
const PASSWORD = /^[0-9a-f]{48}$/;

/** A new random password (hex: nothing to quote or escape in a config file, a URL or a shell). */
export function generateNatsPassword(): string {
  return randomBytes(PASSWORD_BYTES).toString('hex');
}

function parsePasswords(path: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(readFileSync(path, 'utf8'));
    return parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** The passwords recorded in `<dataDir>/nats-users.json`; undefined when the file is missing or incomplete. */
export function readNatsPasswords(dataDir: string): NatsPasswords | undefined {
  const stored = parsePasswords(join(dataDir, EMBEDDED_NATS_FILES.users));
  const passwords = {} as NatsPasswords;
  for (const user of NATS_USERS) {
    const have = stored[user];
    if (typeof have !== 'string' || !PASSWORD.test(have)) return undefined;
    passwords[user] = have;
  }
  return passwords;
}

/**
 * The passwords of the embedded server's users, from `<dataDir>/nats-users.json`; created (mode 0600) on first use,
 * reused afterwards. A user missing from the file (or with a malformed password) gets a new one.
 */
export function loadOrCreateNatsPasswords(dataDir: string): NatsPasswords {
  const path = join(dataDir, EMBEDDED_NATS_FILES.users);
  // Unreadable or malformed: every user without a good password gets a new one below.
  const stored = existsSync(path) ? parsePasswords(path) : {};
  const passwords = {} as NatsPasswords;
  let changed = false;
  for (const user of NATS_USERS) {
    const have = stored[user];
    if (typeof have === 'string' && PASSWORD.test(have)) {
      passwords[user] = have;
    } else {
      passwords[user] = generateNatsPassword();
      changed = true;
    }
  }
  if (changed) writeFileSync(path, `${JSON.stringify(passwords, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return passwords;
}

export interface NatsServerConfigOptions {
  /** Listen address; default 127.0.0.1. */
  host?: string;
  port: number;
  /** JetStream store directory. */
  storeDir: string;
  passwords: NatsPasswords;
  namespace?: string | undefined;
  serverName?: string;
}

const quote = (value: string) => JSON.stringify(value);
const list = (values: string[]) => `[${values.map(quote).join(', ')}]`;

/** The nats-server 2.9 configuration text. */
export function renderNatsServerConfig(opts: NatsServerConfigOptions): string {
  const permissions = natsPermissions(opts.namespace);
  const users = NATS_USERS.map((user) => {
    const p = permissions[user];
    return [
      '    {',
      `      user: ${quote(user)}`,
      `      password: ${quote(opts.passwords[user])}`,
      '      permissions: {',
      `        publish: { allow: ${list(p.publish)} }`,
      `        subscribe: { allow: ${list(p.subscribe)} }`,
      ...(p.allowResponses ? ['        allow_responses: true'] : []),
      '      }',
      '    }',
    ].join('\n');
  });
  return `# Written by Overseer at start-up (adapters/nats/server-config.ts); rewritten on every start, do not edit.
# The embedded nats-server of this data dir: loopback only, JetStream under the data dir, no anonymous access.
# Read-only credentials for an operator: \`overseer nats-credentials\`.
server_name: ${quote(opts.serverName ?? 'overseer-embedded')}
listen: ${quote(`${opts.host ?? '127.0.0.1'}:${opts.port}`)}

jetstream {
  store_dir: ${quote(opts.storeDir)}
}

authorization {
  users = [
${users.join('\n')}
  ]
}
`;
}

/** Writes the configuration (mode 0600: it holds the passwords) and returns its path. */
export function writeNatsServerConfig(path: string, opts: NatsServerConfigOptions): string {
  writeFileSync(path, renderNatsServerConfig(opts), { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

/** What `<dataDir>/nats-endpoint.json` records about the running embedded server (no secrets). */
export interface EmbeddedNatsEndpoint {
  url: string;
  namespace: string | null;
  /** The subject filter of every event, e.g. `overseer.evt.>`. */
  events: string;
  /** The JetStream stream keeping the events. */
  stream: string;
  /** The read-only user and the inbox prefix its clients must use for JetStream. */
  eventsUser: 'events';
  eventsInboxPrefix: string;
  /** The server's process id (to tell it from a stranger on the same port later). */
  pid?: number | undefined;
}

export function embeddedEndpointRecord(url: string, namespace?: string, pid?: number): EmbeddedNatsEndpoint {
  return {
    url,
    ...(pid !== undefined ? { pid } : {}),
    namespace: namespace ?? null,
    events: toNamespace(subjects.allEvents, namespace),
    stream: eventStreamName(namespace),
    eventsUser: 'events',
    eventsInboxPrefix: EVENTS_INBOX_PREFIX,
  };
}

export function writeEmbeddedEndpoint(dataDir: string, record: EmbeddedNatsEndpoint): void {
  writeFileSync(join(dataDir, EMBEDDED_NATS_FILES.endpoint), `${JSON.stringify(record, null, 2)}\n`);
}

/** The last recorded endpoint, or undefined when there is none (or it cannot be read). */
export function readEmbeddedEndpoint(dataDir: string): EmbeddedNatsEndpoint | undefined {
  try {
    const record = JSON.parse(readFileSync(join(dataDir, EMBEDDED_NATS_FILES.endpoint), 'utf8')) as unknown;
    if (record && typeof record === 'object' && typeof (record as { url?: unknown }).url === 'string') {
      return record as EmbeddedNatsEndpoint;
    }
  } catch {
    // none recorded yet
  }
  return undefined;
}

/** A server config requiring one user/password with no other limits (mode 0600); the tests' authenticated server. */
export function writeNatsAuthConfig(path: string, auth: { user: string; pass: string }): string {
  const conf = `authorization {\n  users = [\n    { user: ${quote(auth.user)}, password: ${quote(auth.pass)} }\n  ]\n}\n`;
  writeFileSync(path, conf, { mode: 0o600 });
  return path;
}

/** One member of a nats-server cluster (routes between servers; JetStream replicated across them). */
export interface NatsClusterMemberConfigOptions {
  /** Distinct per server: JetStream's peers are known by it. */
  serverName: string;
  /** Client listen address; default 127.0.0.1. */
  host?: string;
  port: number;
  /** This server's own JetStream store directory. */
  storeDir: string;
  cluster: {
    /** The same on every member. */
    name: string;
    /** Route listen address; default the client host. */
    host?: string;
    port: number;
    /** Every member's route URL (its own is ignored by the server), e.g. `nats-route://127.0.0.1:6222`. */
    routes: string[];
  };
}

/** The nats-server 2.9 configuration of one clustered server: no authorization (tests, trusted networks). */
export function renderNatsClusterMemberConfig(opts: NatsClusterMemberConfigOptions): string {
  const host = opts.host ?? '127.0.0.1';
  return `server_name: ${quote(opts.serverName)}
listen: ${quote(`${host}:${opts.port}`)}

jetstream {
  store_dir: ${quote(opts.storeDir)}
}

cluster {
  name: ${quote(opts.cluster.name)}
  listen: ${quote(`${opts.cluster.host ?? host}:${opts.cluster.port}`)}
  routes: ${list(opts.cluster.routes)}
}
`;
}

/** Writes one clustered server's configuration and returns its path. */
export function writeNatsClusterMemberConfig(path: string, opts: NatsClusterMemberConfigOptions): string {
  writeFileSync(path, renderNatsClusterMemberConfig(opts), { mode: 0o600 });
  return path;
}
