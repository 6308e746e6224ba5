// The wire contract between processes (DESIGN §3, §6): message schemas, subject builders, the Bus contract,
// the typed client and the core's responder. The gateway and the CLI import this, never adapters/.
export type { Action, Decision, RequestStatus, Role } from '../machines/types';
export { ACTIONS, REQUEST_STATUSES, ROLE_RANK, ROLES, TERMINAL_REQUEST_STATUSES } from '../machines/types';
export * from './actor-schemas';
export * from './audit-schemas';
export type {
  Bus,
  BusReplyOptions,
  BusRequestOptions,
  BusStatus,
  EventReplay,
  MessageHandler,
  ReplyHandler,
  StoredEvent,
  Unsubscribe,
} from './bus';
export { DEFAULT_REQUEST_TIMEOUT_MS } from './bus';
export type { CoreCallOptions, CoreClient, CoreClientOptions, Envelope } from './client';
export { createCoreClient } from './client';
export * from './decision-words';
export * from './errors';
export * from './incident-schemas';
export * from './lab-schemas';
export * from './maintenance-schemas';
export type { ParsedEventSubject, ParsedSubject } from './parse-subject';
export { parseEventSubject, parseSubject } from './parse-subject';
export type { QueryMap, QueryName, QueryReplyInput } from './queries';
export { QUERY_NAMES, querySchemas, TokenNameSchema } from './queries';
export * from './record-keys';
export * from './record-schemas';
export type { CoreHandlers, QueryHandlers, Refusal, ServeCoreOptions } from './responder';
export { MAX_CREDENTIAL_LENGTH, serveCoreProtocol } from './responder';
export * from './schemas';
export type { EventKind, LeaseEvent, RequestCommand } from './subject-tokens';
export {
  assertFilter,
  assertLeaseEvent,
  assertSubject,
  assertToken,
  EVENT_KINDS,
  LEASE_EVENTS,
  MAX_SUBJECT_LENGTH,
  MAX_TOKEN_LENGTH,
  REQUEST_COMMANDS,
  SUBJECT_ROOT,
  subjectMatches,
} from './subject-tokens';
export type { EventFilterSpec } from './subjects';
export { eventFilter, subjects, validateEventFilter } from './subjects';
