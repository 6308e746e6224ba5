// How a request's final decision reads to a person (the CLI's and the dashboard's words; the wire keeps the value).
// The gate's `awaiting_approval` stays a request's decision when it ended without one, cancelled or expired while it
// waited; shown as is beside such a status, it reads as a wait that goes on.

/** `never_approved` for a request that ended while it awaited approval; the decision otherwise. */
export function decisionShown(r: { status: string; decision?: string | undefined }): string | undefined {
  return r.decision === 'awaiting_approval' && r.status !== 'awaiting_approval' ? 'never_approved' : r.decision;
}
