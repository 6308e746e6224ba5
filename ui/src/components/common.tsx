// Small shared pieces: a state badge (text and colour, never colour alone), error and loading lines, a time that
// says both when and how long ago.
import type { ComponentChildren } from 'preact';
import { ago, dateTime, toneOf, words } from '../format';

export function Badge({ value, label }: { value: string; label?: string }) {
  return <span class={`badge tone-${toneOf(value)}`}>{label ?? words(value)}</span>;
}

export function ErrorNote({ error }: { error: string | undefined }) {
  if (!error) return null;
  return (
    <p class="error" role="alert">
      {error}
    </p>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p class="muted" aria-live="polite">
      Loading {what}…
    </p>
  );
}

export function When({ at }: { at: number | undefined }) {
  if (at === undefined) return <span>—</span>;
  return (
    <time dateTime={new Date(at).toISOString()} title={ago(at)}>
      {dateTime(at)}
    </time>
  );
}

export function Empty({ children }: { children: ComponentChildren }) {
  return <p class="muted">{children}</p>;
}

/** A `<dl>` of label → value pairs. */
export function Facts({ items }: { items: [string, ComponentChildren][] }) {
  return (
    <dl class="facts">
      {items.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
