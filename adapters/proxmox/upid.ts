// PVE task ids: UPID:{node}:{pid}:{pstart}:{starttime}:{type}:{id}:{user}:
// (pid, pstart and starttime in hex; PVE::Tools::upid_decode's pattern).

export interface UpidParts {
  upid: string;
  node: string;
  pid: number;
  pstart: number;
  /** epoch seconds */
  starttime: number;
  type: string;
  /** VMID or other object id; may be empty. */
  id: string;
  /** user@realm, or user@realm!token */
  user: string;
}

const UPID_RE =
  /^UPID:([a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8,9}):([0-9A-Fa-f]{8}):([^:\s]+):([^:\s]*):([^:\s]+):$/;

/** The parts of a well-formed UPID, or undefined. */
export function parseUpid(upid: unknown): UpidParts | undefined {
  if (typeof upid !== 'string') return undefined;
  const m = UPID_RE.exec(upid);
  if (!m) return undefined;
  return {
    upid,
    node: m[1]!,
    pid: Number.parseInt(m[3]!, 16),
    pstart: Number.parseInt(m[4]!, 16),
    starttime: Number.parseInt(m[5]!, 16),
    type: m[6]!,
    id: m[7]!,
    user: m[8]!,
  };
}

export const isUpid = (upid: unknown): upid is string => parseUpid(upid) !== undefined;
