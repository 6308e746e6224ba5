// The CLI's exit codes. Scripts can rely on them; `overseer help` lists them.
export const EXIT = {
  /** Done: a read succeeded, a request was approved (or, with --wait, completed), a command was accepted. */
  ok: 0,
  /** Something unexpected: a 5xx other than 503, an answer the CLI does not understand, a --wait timeout. */
  error: 1,
  /** Bad command line, or the gateway refused the input (400, 413). */
  usage: 2,
  /** The gate denied the request, or the core refused the command (self-approval, wrong state: 403 refused, 409). */
  denied: 3,
  /** The request was executed and failed. */
  failed: 4,
  /** The request is waiting for someone's approval (submitted without --wait). */
  awaitingApproval: 5,
  /** The request was cancelled or expired before it ran. */
  cancelled: 6,
  /** No token, a bad or revoked token (401), or a role too low for the route (403). */
  auth: 7,
  /** Unknown VM, request or token (404). */
  notFound: 8,
  /** The gateway, NATS or the core cannot be reached now (connection refused, 503, 429): retry later. */
  unavailable: 9,
  /** The audit chain is broken (audit verify). */
  auditBroken: 10,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export const EXIT_CODE_HELP = `Exit codes:
  0  done: read succeeded, request approved (with --wait: completed), command accepted
  1  unexpected error (server error, unreadable answer, --wait timeout)
  2  bad command line, or the gateway refused the input (400, 413)
  3  request denied by the gate, or command refused (self-approval, wrong state)
  4  request failed while executing
  5  request awaiting approval (submitted without --wait)
  6  request cancelled or expired
  7  no token, bad or revoked token, or role too low
  8  not found (VM, request, token)
  9  gateway, NATS or core unavailable (retry later)
  10 the audit chain is broken (audit verify)`;
