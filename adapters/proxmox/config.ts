// One Proxmox VE cluster as Overseer talks to it: where, how to log in, what to trust, how long to wait.
import { PlatformConfigError } from '../platform/errors';

export type ProxmoxAuth =
  | { type: 'token'; tokenId: string; secret: string }
  | { type: 'ticket'; username: string; password: string };

export interface ProxmoxTlsConfig {
  /** PEM of the CA that signed the nodes' certificates (PVE: /etc/pve/pve-root-ca.pem). */
  ca?: string | undefined;
  /** SHA-256 fingerprint of the server certificate, `AA:BB:...` (as the PVE GUI shows it). */
  fingerprint?: string | undefined;
  /** Skip certificate verification entirely. Logged as a warning on every client built. */
  insecure?: boolean | undefined;
}

export interface ProxmoxLockRetry {
  /** Total tries of a call that hits a lock timeout (first try included). */
  attempts: number;
  /** First backoff; doubles each retry. */
  baseMs: number;
  /** Longest single backoff (default 8000). */
  capMs?: number | undefined;
}

export interface ProxmoxClusterConfig {
  /** Cluster name used by Overseer, e.g. 'lab'. */
  name: string;
  host: string;
  /** Required here; config loading applies PVE's default 8006. */
  port: number;
  /** Default https. */
  protocol?: 'https' | 'http' | undefined;
  auth: ProxmoxAuth;
  tls?: ProxmoxTlsConfig | undefined;
  /** Per call, default 15000. */
  timeoutMs?: number | undefined;
  /** Task status poll interval, default 1000. */
  taskPollMs?: number | undefined;
  /** Default 5 attempts, 500 ms doubling, capped at 8 s. */
  lockRetry?: ProxmoxLockRetry | undefined;
}

/** A config with every default applied and every field checked. */
export interface ResolvedConfig {
  name: string;
  host: string;
  port: number;
  protocol: 'https' | 'http';
  auth: ProxmoxAuth;
  tls: ProxmoxTlsConfig;
  timeoutMs: number;
  taskPollMs: number;
  lockRetry: Required<ProxmoxLockRetry>;
}

export const DEFAULT_TIMEOUT_MS = 15_000;
export const DEFAULT_TASK_POLL_MS = 1_000;
export const DEFAULT_LOCK_RETRY: Required<ProxmoxLockRetry> = { attempts: 5, baseMs: 500, capMs: 8_000 };

const TOKEN_ID_RE = /^[^\s@!]+@[^\s@!]+![A-Za-z][A-Za-z0-9._-]*$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const USER_RE = /^[^\s@:]+@[^\s@:]+$/;
const HOST_RE = /^(\[[0-9A-Fa-f:.]+\]|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$/;

const positiveInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0;

/** Checks a cluster config and applies defaults. Throws PlatformConfigError naming the bad field. */
export function resolveConfig(config: ProxmoxClusterConfig): ResolvedConfig {
  const name = config.name;
  const fail = (what: string): never => {
    throw new PlatformConfigError(`cluster '${name}': ${what}`, name);
  };
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(name)) {
    throw new PlatformConfigError(`invalid cluster name ${JSON.stringify(name)}`, String(name));
  }
  if (typeof config.host !== 'string' || !HOST_RE.test(config.host)) fail('host must be a hostname or IP address');
  if (!positiveInt(config.port) || config.port > 65535) fail('port must be given explicitly (1-65535)');
  const protocol = config.protocol ?? 'https';
  if (protocol !== 'https' && protocol !== 'http') fail("protocol must be 'https' or 'http'");

  const auth = config.auth;
  if (auth?.type === 'token') {
    if (!TOKEN_ID_RE.test(auth.tokenId ?? '')) fail('auth.tokenId must look like USER@REALM!TOKENNAME');
    const secret = (auth.secret ?? '').trim().toLowerCase();
    if (!UUID_RE.test(secret))
      fail('auth.secret must be the token secret: a lowercase UUID such as 5d1e3f0a-7b2c-4c9e-9a51-0f6e2b8d4c11');
  } else if (auth?.type === 'ticket') {
    if (!USER_RE.test(auth.username ?? '')) fail('auth.username must look like USER@REALM (e.g. root@pam)');
    if (typeof auth.password !== 'string' || auth.password === '') fail('auth.password is empty');
  } else {
    fail("auth.type must be 'token' or 'ticket'");
  }

  const tls = { ...config.tls };
  if (tls.fingerprint !== undefined) tls.fingerprint = normalizeFingerprint(tls.fingerprint, name);
  if (tls.ca !== undefined && !/-----BEGIN CERTIFICATE-----/.test(tls.ca)) fail('tls.ca must be a PEM certificate');
  if (tls.insecure === true && (tls.ca !== undefined || tls.fingerprint !== undefined)) {
    fail('tls.insecure cannot be combined with tls.ca or tls.fingerprint (pick one)');
  }

  const timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const taskPollMs = config.taskPollMs ?? DEFAULT_TASK_POLL_MS;
  if (!positiveInt(timeoutMs)) fail('timeoutMs must be a positive integer');
  if (!positiveInt(taskPollMs)) fail('taskPollMs must be a positive integer');
  const lockRetry = { ...DEFAULT_LOCK_RETRY, ...config.lockRetry };
  if (!positiveInt(lockRetry.attempts)) fail('lockRetry.attempts must be a positive integer');
  if (!positiveInt(lockRetry.baseMs) || !positiveInt(lockRetry.capMs)) fail('lockRetry delays must be positive');

  const normalizedAuth: ProxmoxAuth =
    auth.type === 'token' ? { ...auth, secret: auth.secret.trim().toLowerCase() } : { ...auth };
  return {
    name,
    host: config.host,
    port: config.port,
    protocol,
    auth: normalizedAuth,
    tls,
    timeoutMs,
    taskPollMs,
    lockRetry,
  };
}

/** `aa:bb...`, `AABB...` or `sha256:...` → `AA:BB:...` (64 hex digits). */
export function normalizeFingerprint(fingerprint: string, cluster = ''): string {
  const hex = String(fingerprint)
    .trim()
    .replace(/^sha256[:=\s]*/i, '')
    .replace(/[:\s-]/g, '')
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) {
    throw new PlatformConfigError(`cluster '${cluster}': tls.fingerprint must be a SHA-256 fingerprint`, cluster);
  }
  return hex.match(/../g)!.join(':');
}

/** The host as it goes into a URL (IPv6 literals in brackets). */
export function urlHost(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}
