// UPIDs in PVE's format: UPID:{node}:{pid}:{pstart}:{starttime}:{type}:{id}:{user}:
// pid, pstart and starttime are upper-case hex, 8 digits (pid/pstart may be 9).

export interface UpidParts {
  node: string;
  pid: number;
  pstart: number;
  /** epoch seconds */
  starttime: number;
  type: string;
  id: string;
  user: string;
}

const hex8 = (n: number): string => (n >>> 0).toString(16).toUpperCase().padStart(8, '0');

export function encodeUpid(p: UpidParts): string {
  return `UPID:${p.node}:${hex8(p.pid)}:${hex8(p.pstart)}:${hex8(p.starttime)}:${p.type}:${p.id}:${p.user}:`;
}

// PVE::Tools::upid_decode's pattern.
const UPID_RE =
  /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s]+):([^:\s]*):([^:\s]+):$/;

export function decodeUpid(upid: string): UpidParts | undefined {
  const m = UPID_RE.exec(upid);
  if (!m) return undefined;
  return {
    node: m[1]!,
    pid: Number.parseInt(m[3]!, 16),
    pstart: Number.parseInt(m[4]!, 16),
    starttime: Number.parseInt(m[5]!, 16),
    type: m[6]!,
    id: m[7]!,
    user: m[8]!,
  };
}
