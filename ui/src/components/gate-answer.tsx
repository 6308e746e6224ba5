// The gate's answer, check by check: the decision, its reasons, the knowledge base's warnings, and one row per
// check with its outcome and sentence (`check-<name>`). Used for a submission's answer and a request's decision.
// A submission's answer takes the focus when it arrives (the button that was pressed may be gone: the guest's
// state changed), and its decision sentence is a status message (<output>), announced when it changes.
import { useEffect, useId, useRef } from 'preact/hooks';
import type { Decision } from '../api/types';
import { href } from '../router';
import { Badge } from './common';

/** One check's result (a request's, or a lab's whose outcome is any string). */
export interface CheckRow {
  check: string;
  outcome: string;
  reason: string;
}

/** The knowledge base's warnings, read from the `knowledge` check's sentence (`…; warning: runbook …`). */
export function knowledgeWarnings(checks: readonly CheckRow[]): string[] {
  const warnings: string[] = [];
  for (const check of checks) {
    if (check.check !== 'knowledge') continue;
    for (const part of check.reason.split(/;\s*/)) {
      const match = /^warning:\s*(.+)$/i.exec(part.trim());
      if (match) warnings.push(match[1]!);
    }
  }
  return warnings;
}

export function KnowledgeWarnings({ checks }: { checks: readonly CheckRow[] }) {
  const warnings = knowledgeWarnings(checks);
  if (warnings.length === 0) return null;
  return (
    <div class="callout tone-warn" role="note" data-testid="knowledge-warnings">
      <strong>Knowledge base</strong>
      <ul>
        {warnings.map((w) => (
          <li key={w}>{w}</li>
        ))}
      </ul>
    </div>
  );
}

export function ChecksTable({ checks, caption }: { checks: readonly CheckRow[]; caption?: string }) {
  if (checks.length === 0) return <p class="muted">No checks recorded.</p>;
  return (
    <table class="checks">
      <caption>{caption ?? 'The gate’s checks, in order'}</caption>
      <thead>
        <tr>
          <th scope="col">Check</th>
          <th scope="col">Outcome</th>
          <th scope="col">Why</th>
        </tr>
      </thead>
      <tbody>
        {checks.map((c) => (
          <tr key={c.check} data-testid={`check-${c.check}`} data-outcome={c.outcome}>
            <th scope="row">{c.check}</th>
            <td>
              <Badge value={c.outcome} />
            </td>
            <td>{c.reason}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const DECISION_TEXT: Record<Decision, string> = {
  approved: 'Approved: it runs now.',
  denied: 'Denied.',
  awaiting_approval: 'Awaiting a second person’s approval.',
  nothing_to_do: 'Nothing to do: the guest is already there.',
};

export interface GateAnswerProps {
  action: string;
  decision: Decision;
  reasons: readonly string[];
  checks: readonly CheckRow[];
  requestId?: string | undefined;
  status?: string | undefined;
  /** When this changes (a new answer), the answer takes the focus. */
  focusKey?: unknown;
}

export function GateAnswer(props: GateAnswerProps) {
  const box = useRef<HTMLElement>(null);
  const id = useId();
  useEffect(() => {
    if (props.focusKey !== undefined) box.current?.focus();
  }, [props.focusKey]);
  return (
    <section
      ref={box}
      class="gate-answer"
      data-testid="gate-answer"
      data-decision={props.decision}
      tabIndex={-1}
      aria-labelledby={`${id}-h`}
      aria-describedby={`${id}-d`}
    >
      <h3 id={`${id}-h`}>
        The gate’s answer to {props.action}: <Badge value={props.decision} />
      </h3>
      {/* An <output> is a status message: announced when it changes. */}
      <output id={`${id}-d`} class="block" data-testid="gate-decision">
        {DECISION_TEXT[props.decision]}
        {props.requestId ? (
          <>
            {' '}
            Request <a href={href('requests', props.requestId)}>{props.requestId.slice(0, 8)}</a>
            {props.status ? ` is ${props.status.replace(/_/g, ' ')}.` : '.'}
          </>
        ) : null}
      </output>
      {props.reasons.length > 0 ? (
        <ul class="reasons">
          {props.reasons.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ul>
      ) : null}
      <KnowledgeWarnings checks={props.checks} />
      <ChecksTable checks={props.checks} />
    </section>
  );
}
