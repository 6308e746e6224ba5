// Who is on the other end of the connection, for the per-address limit on failed authentication.
// The address comes from the Node server's socket; X-Forwarded-For is believed only when the socket's peer is a
// proxy the operator named as trusted (any client can write that header).
import { getConnInfo } from '@hono/node-server/conninfo';
import type { Context } from 'hono';
import type { AppEnv, ClientAddressSource } from './deps';

/** The peer address of the socket the request came on (`@hono/node-server`). */
export function socketAddress(c: Context<AppEnv>): string | undefined {
  // Not served by @hono/node-server (e.g. `app.request()`): no socket, nothing to attribute the request to.
  // Checked first rather than caught, so such requests cost no exception each.
  const env = c.env as { server?: { incoming?: unknown }; incoming?: unknown } | undefined;
  if (!(env?.server ?? env)?.incoming) return undefined;
  try {
    return getConnInfo(c).remote.address || undefined;
  } catch {
    return undefined;
  }
}

const MAX_ADDRESS_LENGTH = 64;

/** `::ffff:1.2.3.4` → `1.2.3.4`; lower case; IPv6 zone and surrounding brackets dropped. */
export function normalizeAddress(address: string): string {
  let a = address.trim().toLowerCase();
  if (a.startsWith('[') && a.endsWith(']')) a = a.slice(1, -1);
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(a);
  return mapped ? mapped[1]! : a;
}

/** The 8 groups of an IPv6 address, or undefined when it is not one. */
function ipv6Groups(address: string): string[] | undefined {
  if (!address.includes(':') || !/^[0-9a-f:.]+$/.test(address)) return undefined;
  const halves = address.split('::');
  if (halves.length > 2) return undefined;
  const part = (s: string) => (s === '' ? [] : s.split(':'));
  const head = part(halves[0]!);
  const tail = halves.length === 2 ? part(halves[1]!) : [];
  // An embedded IPv4 tail counts as two groups.
  const last = tail.length > 0 ? tail : head;
  if (last.length > 0 && last[last.length - 1]!.includes('.')) last.splice(-1, 1, '0', '0');
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail];
  return groups.every((g) => /^[0-9a-f]{1,4}$/.test(g)) ? groups : undefined;
}

/**
 * The key failures are counted under: the IPv4 address, or the /64 network of an IPv6 address (one host
 * usually holds a whole /64, so counting single IPv6 addresses would let it rotate past the limit).
 */
export function addressKey(address: string): string {
  // An address is at most 45 characters; anything longer is not one and must not grow the limiter's memory.
  const a = normalizeAddress(address).slice(0, MAX_ADDRESS_LENGTH);
  const groups = ipv6Groups(a);
  if (!groups) return a;
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}

/**
 * The socket's address, or — when the socket's peer is one of `trustedProxies` — the right-most
 * X-Forwarded-For entry that is not itself a trusted proxy (the left-most entries are the client's to write).
 */
export function proxiedAddressSource(trustedProxies: readonly string[], socket = socketAddress): ClientAddressSource {
  const trusted = new Set(trustedProxies.map(normalizeAddress));
  return (c) => {
    const peer = socket(c);
    if (peer === undefined || !trusted.has(normalizeAddress(peer))) return peer;
    const forwarded = (c.req.header('x-forwarded-for') ?? '')
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    for (let i = forwarded.length - 1; i >= 0; i--) {
      if (!trusted.has(normalizeAddress(forwarded[i]!))) return forwarded[i];
    }
    return forwarded[0] ?? peer;
  };
}
