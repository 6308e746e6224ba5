// IPv4 and IPv6 addresses and CIDR blocks as numbers, for the lab's address checks (overlaps, containment, counting
// up addresses of identical members).
export type IpVersion = 4 | 6;

export interface IpAddress {
  version: IpVersion;
  value: bigint;
}

export interface Cidr {
  version: IpVersion;
  /** The block's first address. */
  network: bigint;
  prefix: number;
}

const bitsOf = (v: IpVersion): number => (v === 4 ? 32 : 128);

function parseV4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0n;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > 255) return undefined;
    value = (value << 8n) | BigInt(p);
  }
  return value;
}

function parseV6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.split('::').length > 2) return undefined;
  const expand = (side: string): number[] | undefined => {
    if (side === '') return [];
    const groups: number[] = [];
    const pieces = side.split(':');
    for (let i = 0; i < pieces.length; i++) {
      const piece = pieces[i]!;
      if (i === pieces.length - 1 && piece.includes('.')) {
        const v4 = parseV4(piece);
        if (v4 === undefined) return undefined;
        groups.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(piece)) {
        groups.push(Number.parseInt(piece, 16));
      } else {
        return undefined;
      }
    }
    return groups;
  };
  const [head, tail] = text.split('::') as [string, string | undefined];
  const left = expand(head);
  const right = tail === undefined ? [] : expand(tail);
  if (!left || !right) return undefined;
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return undefined;
  const groups = [...left, ...new Array<number>(tail === undefined ? 0 : missing).fill(0), ...right];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
}

export function parseIp(text: string): IpAddress | undefined {
  if (text.includes(':')) {
    const value = parseV6(text);
    return value === undefined ? undefined : { version: 6, value };
  }
  const value = parseV4(text);
  return value === undefined ? undefined : { version: 4, value };
}

/** `10.42.1.10/24` → address and prefix (the host part may be set). */
export function parseIpWithPrefix(text: string): { address: IpAddress; prefix: number } | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = parseIp(text.slice(0, slash));
  const prefixText = text.slice(slash + 1);
  if (!address || !/^\d{1,3}$/.test(prefixText)) return undefined;
  const prefix = Number(prefixText);
  return prefix <= bitsOf(address.version) ? { address, prefix } : undefined;
}

const hostMask = (version: IpVersion, prefix: number): bigint => (1n << BigInt(bitsOf(version) - prefix)) - 1n;

/** A network block; `hostBitsSet` when the text's address is not the block's first (10.42.1.5/24). */
export function parseCidr(text: string): (Cidr & { hostBitsSet: boolean }) | undefined {
  const parsed = parseIpWithPrefix(text);
  if (!parsed) return undefined;
  const { address, prefix } = parsed;
  const mask = hostMask(address.version, prefix);
  return {
    version: address.version,
    network: address.value & ~mask,
    prefix,
    hostBitsSet: (address.value & mask) !== 0n,
  };
}

export function lastAddress(c: Cidr): bigint {
  return c.network | hostMask(c.version, c.prefix);
}

export function cidrContains(c: Cidr, ip: IpAddress): boolean {
  return c.version === ip.version && ip.value >= c.network && ip.value <= lastAddress(c);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return a.version === b.version && a.network <= lastAddress(b) && b.network <= lastAddress(a);
}

export function formatIp(ip: IpAddress): string {
  if (ip.version === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((ip.value >> s) & 0xffn)).join('.');
  }
  const groups: string[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(((ip.value >> s) & 0xffffn).toString(16));
  // Compress the longest run of zero groups (two or more) as `::`.
  let best = { at: -1, len: 0 };
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.len) best = { at: i, len: j - i };
    i = j;
  }
  if (best.len < 2) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`;
}

export function formatCidr(c: Cidr): string {
  return `${formatIp({ version: c.version, value: c.network })}/${c.prefix}`;
}

/** The address `n` after `ip`; undefined past the end of the address space. */
export function addToIp(ip: IpAddress, n: number): IpAddress | undefined {
  const value = ip.value + BigInt(n);
  return value < 1n << BigInt(bitsOf(ip.version)) ? { version: ip.version, value } : undefined;
}

/** IPv4 blocks up to /30 have a network and a broadcast address no host may take. */
export function isReservedHost(c: Cidr, ip: IpAddress): boolean {
  if (c.version !== 4 || c.prefix >= 31) return false;
  return ip.value === c.network || ip.value === lastAddress(c);
}
