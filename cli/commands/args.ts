// Checks of command-line values; each failure is a UsageError (exit 2).
import { UsageError } from '../errors';
import type { OptionValues } from './types';

const CLUSTER = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

/** `lab/114` → the same string, checked. */
export function vmTarget(value: string | undefined): string {
  if (!value || !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}\/[0-9]{1,9}$/.test(value)) {
    throw new UsageError(`expected <cluster>/<vmid>, e.g. lab/114 (got '${value ?? ''}')`);
  }
  return value;
}

/** A guest target: one guest (`lab/114`) or a selector (`lab/@tag:web,-105`), as the API takes it. */
export type GuestTarget = { cluster: string; vmid: number } | { cluster: string; selector: string };

/** `lab/114` → {cluster, vmid}; `lab/@tag:web,-105` → {cluster, selector} (the core reads the selector). */
export function guestTarget(value: string | undefined): GuestTarget {
  const match = /^([A-Za-z0-9][A-Za-z0-9_-]{0,63})\/(?:([0-9]{1,9})|(@[\x21-\x7e]{1,511}))$/.exec(value ?? '');
  if (!match) {
    throw new UsageError(
      `expected <cluster>/<vmid> or <cluster>/@<selector>, e.g. lab/114 or lab/@tag:web,-105 (got '${value ?? ''}')`,
    );
  }
  const [, name, vmid, selector] = match;
  return selector !== undefined ? { cluster: name!, selector } : { cluster: name!, vmid: Number(vmid) };
}

const NODE = /^[A-Za-z0-9][A-Za-z0-9.-]{0,63}$/;

/** A node name (drain, migrate's destination). */
export function node(value: string | undefined): string {
  if (!value || !NODE.test(value)) throw new UsageError(`expected a node name, e.g. pve2 (got '${value ?? ''}')`);
  return value;
}

/** `lab/pve2` → {cluster: 'lab', node: 'pve2'}. */
export function nodeTarget(value: string | undefined): { cluster: string; node: string } {
  const slash = (value ?? '').indexOf('/');
  const name = slash < 0 ? '' : value!.slice(0, slash);
  const rest = slash < 0 ? '' : value!.slice(slash + 1);
  if (!CLUSTER.test(name) || !NODE.test(rest)) {
    throw new UsageError(`expected <cluster>/<node>, e.g. lab/pve2 (got '${value ?? ''}')`);
  }
  return { cluster: name, node: rest };
}

export function cluster(value: string | undefined): string {
  if (!value || !CLUSTER.test(value)) throw new UsageError(`expected a cluster name (got '${value ?? ''}')`);
  return value;
}

export function str(values: OptionValues, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function required(values: OptionValues, name: string): string {
  const v = str(values, name);
  if (v === undefined || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

export function int(values: OptionValues, name: string, min = 0): number | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || !Number.isSafeInteger(Number(v))) {
    throw new UsageError(`--${name} must be a whole number of at least ${min} (got '${v}')`);
  }
  return Number(v);
}

export function seconds(values: OptionValues, name: string, fallback: number): number {
  const v = str(values, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be seconds (got '${v}')`);
  return n;
}

export function oneOf<T extends string>(values: OptionValues, name: string, allowed: readonly T[]): T | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')} (got '${v}')`);
  }
  return v as T;
}

/** Path segment for an id (request, token), checked so it cannot change the path. */
export function id(value: string | undefined, what: string): string {
  if (!value || !/^[A-Za-z0-9_:-]{1,128}$/.test(value))
    throw new UsageError(`expected a ${what} id (got '${value ?? ''}')`);
  return value;
}
