// A timeline of incidents as SVG: one bar per incident from when it opened to when it was resolved (or now),
// coloured by severity and patterned when acknowledged, each bar a link to the incident. The same facts are in the
// table beside it; this is for seeing at a glance what overlapped with what.
import type { IncidentView } from '../api/types';
import { dateTime } from '../format';
import { href } from '../router';

const WIDTH = 1000;
const ROW = 18;
const TOP = 8;
const AXIS = 28;
const LABEL = 190;
const MAX_ROWS = 40;

const tickText = (ms: number, span: number): string => {
  const d = new Date(ms);
  const hm = `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  return span > 2 * 86_400_000 ? `${d.getMonth() + 1}/${d.getDate()} ${hm}` : hm;
};

export function IncidentTimeline(props: { incidents: readonly IncidentView[]; from: number; to: number }) {
  const { from, to } = props;
  const span = Math.max(1, to - from);
  const shown = props.incidents
    .filter((i) => (i.resolvedAt ?? to) >= from && i.openedAt <= to)
    .sort((a, b) => a.openedAt - b.openedAt)
    .slice(-MAX_ROWS);
  const height = TOP + Math.max(1, shown.length) * ROW + AXIS;
  const x = (ms: number) => LABEL + ((Math.min(to, Math.max(from, ms)) - from) / span) * (WIDTH - LABEL - 10);
  const ticks = Array.from({ length: 6 }, (_, i) => from + (span * i) / 5);
  return (
    <svg
      class="timeline"
      viewBox={`0 0 ${WIDTH} ${height}`}
      aria-labelledby="timeline-title"
      data-testid="incident-timeline"
    >
      <title id="timeline-title">
        {`Incidents between ${dateTime(from)} and ${dateTime(to)}: ${shown.length} shown`}
      </title>
      {ticks.map((t, i) => (
        <g key={t} class="tick">
          <line x1={x(t)} x2={x(t)} y1={TOP} y2={height - AXIS + 4} />
          <text x={x(t)} y={height - 8} text-anchor={i === ticks.length - 1 ? 'end' : 'middle'}>
            {tickText(t, span)}
          </text>
        </g>
      ))}
      {shown.length === 0 ? (
        <text x={LABEL} y={TOP + 13} class="muted-text">
          No incident in this period.
        </text>
      ) : null}
      {shown.map((i, row) => {
        const y = TOP + row * ROW;
        const x1 = x(i.openedAt);
        const x2 = Math.max(x1 + 3, x(i.resolvedAt ?? to));
        const visible = `${i.kind} ${i.guest ?? ''}`.slice(0, 30).trim();
        const label = `${visible}: ${i.severity} ${i.kind} on ${i.guest ?? i.subject}: ${i.state}${i.acknowledged ? ', acknowledged' : ''}, opened ${dateTime(i.openedAt)}${i.resolvedAt ? `, resolved ${dateTime(i.resolvedAt)}` : ''}`;
        return (
          <a key={i.id} href={href('incidents', i.id)} aria-label={label}>
            <title>{label}</title>
            <text x={LABEL - 6} y={y + 13} text-anchor="end" class="row-label">
              {visible}
            </text>
            <rect
              x={x1}
              y={y + 3}
              width={x2 - x1}
              height={ROW - 6}
              rx="3"
              class={`bar sev-${i.severity}${i.acknowledged ? ' acked' : ''}${i.state === 'resolved' ? ' done' : ''}`}
            />
          </a>
        );
      })}
    </svg>
  );
}
