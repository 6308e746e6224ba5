// Reading PVE's JSON field by field. PVE is Perl: booleans arrive as 0/1, ids sometimes as strings,
// and any field may be missing on an entry from an offline node. Nothing here trusts the shape.

export type Wire = Record<string, unknown>;

export const isRecord = (v: unknown): v is Wire => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Collects what was wrong with one entry; `ok` is false once anything was. */
export class FieldReader {
  readonly problems: string[] = [];

  /** `where` names the entry in problems; a function is called only when there is one (no string per entry). */
  constructor(
    private readonly entry: Wire,
    private readonly where: string | (() => string),
  ) {}

  /** Where the entry is, for a problem line. */
  get place(): string {
    return typeof this.where === 'string' ? this.where : this.where();
  }

  get ok(): boolean {
    return this.problems.length === 0;
  }

  private bad(field: string, why: string): undefined {
    this.problems.push(`${this.place}: ${field} ${why} (${JSON.stringify(this.entry[field])?.slice(0, 60)})`);
    return undefined;
  }

  has(field: string): boolean {
    return this.entry[field] !== undefined && this.entry[field] !== null;
  }

  /** A required non-empty string. */
  string(field: string, pattern?: RegExp): string | undefined {
    const v = this.entry[field];
    if (typeof v !== 'string' || v === '') return this.bad(field, 'is not a non-empty string');
    if (pattern && !pattern.test(v)) return this.bad(field, 'has an invalid format');
    return v;
  }

  /** An optional string (undefined when absent). */
  optString(field: string): string | undefined {
    if (!this.has(field)) return undefined;
    const v = this.entry[field];
    if (typeof v !== 'string') return this.bad(field, 'is not a string');
    return v;
  }

  /** A required integer (numeric strings accepted, as PVE sometimes sends ids as strings). */
  int(field: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
    const v = this.entry[field];
    const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < min || n > max) {
      return this.bad(field, `is not an integer in ${min}..${max}`);
    }
    return n;
  }

  /** An optional finite number ≥ 0, `fallback` when absent. */
  amount(field: string, fallback = 0): number {
    if (!this.has(field)) return fallback;
    const v = this.entry[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      this.bad(field, 'is not a finite number ≥ 0');
      return fallback;
    }
    return v;
  }

  /** An optional integer ≥ 0, `undefined` when absent. */
  optInt(field: string): number | undefined {
    if (!this.has(field)) return undefined;
    return this.int(field);
  }

  /** PVE boolean: 0/1 (or true/false); `fallback` when absent. */
  flag(field: string, fallback = false): boolean {
    if (!this.has(field)) return fallback;
    const v = this.entry[field];
    if (v === 1 || v === true || v === '1') return true;
    if (v === 0 || v === false || v === '0') return false;
    this.bad(field, 'is not 0/1');
    return fallback;
  }
}

/** PVE node names (pve-node format). */
export const NODE_NAME_RE = /^[a-zA-Z0-9]([a-zA-Z0-9-]*[a-zA-Z0-9])?$/;

/** Valid VMIDs (pve-vmid: 100..999999999; lower ids exist on old clusters, so ≥ 1 is accepted when reading). */
export const MAX_VMID = 999_999_999;
