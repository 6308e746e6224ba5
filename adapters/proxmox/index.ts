// The Proxmox VE adapter: the Platform interface on real clusters (and the PVE simulator) via proxmox-api.
export type { ClientDeps } from './client';
export {
  DEFAULT_LOCK_RETRY,
  DEFAULT_TASK_POLL_MS,
  DEFAULT_TIMEOUT_MS,
  normalizeFingerprint,
  type ProxmoxAuth,
  type ProxmoxClusterConfig,
  type ProxmoxLockRetry,
  type ProxmoxTlsConfig,
  type ResolvedConfig,
  resolveConfig,
} from './config';
export { buildInventory, type InventoryInput, type InventoryResult, splitTags } from './inventory';
export { lockBackoffMs } from './lock-retry';
export { createProxmoxPlatform, type ProxmoxDeps, type ProxmoxPlatform } from './platform';
export { closePlatforms, createPlatforms } from './platforms';
export { TICKET_RENEW_AFTER_MS } from './session';
export { createDispatcher, type DispatcherOptions, type TlsMode, tlsMode } from './tls';
export { isUpid, parseUpid, type UpidParts } from './upid';
