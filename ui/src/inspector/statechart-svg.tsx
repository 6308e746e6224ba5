// A laid-out statechart drawn as SVG: containers (compound states; parallel ones dashed) behind their children,
// atomic states as rounded boxes (final ones with a double border, history as a circled H), initial-state dots,
// transitions as arrows with their event and guard. The active states carry `data-active="true"` and the class
// `active`; the edge of the last event received is emphasised.
import type { Drawing, DrawnState } from './statechart-layout';

function pathOf(points: { x: number; y: number }[]): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ');
}

function StateBox({ s, active, current }: { s: DrawnState; active: boolean; current: boolean }) {
  const name = s.path === '' ? s.key : s.path;
  const classes = [
    'state',
    `type-${s.type}`,
    s.container ? 'container' : 'leaf',
    active ? 'active' : '',
    current ? 'current' : '',
  ]
    .filter(Boolean)
    .join(' ');
  const testid = s.path === '' ? 'state-node-(machine)' : `state-node-${s.path}`;
  if (s.type === 'history') {
    const r = s.width / 2;
    return (
      <g class={classes} data-testid={testid} data-active={String(active)} data-path={s.path}>
        <title>{`history state ${name}`}</title>
        <circle cx={s.x + r} cy={s.y + r} r={r} />
        <text x={s.x + r} y={s.y + r + 4} text-anchor="middle">
          H
        </text>
      </g>
    );
  }
  const label = `${s.container ? `${s.type} state` : s.type === 'final' ? 'final state' : 'state'} ${name}${active ? ' (active)' : ''}`;
  return (
    <g class={classes} data-testid={testid} data-active={String(active)} data-path={s.path}>
      <title>{label}</title>
      <rect x={s.x} y={s.y} width={s.width} height={s.height} rx={s.container ? 10 : 8} />
      {s.type === 'final' ? (
        <rect class="inner" x={s.x + 4} y={s.y + 4} width={s.width - 8} height={s.height - 8} rx="5" />
      ) : null}
      <text
        x={s.container ? s.x + 12 : s.x + s.width / 2}
        y={s.y + (s.container ? 19 : 20)}
        text-anchor={s.container ? 'start' : 'middle'}
        class="state-name"
      >
        {s.key}
        {s.container && s.type === 'parallel' ? ' (parallel)' : ''}
      </text>
      {s.invokes.map((src, i) => (
        <text
          key={src}
          x={s.container ? s.x + 12 : s.x + s.width / 2}
          y={s.y + (s.container ? 33 : 34) + i * 14}
          text-anchor={s.container ? 'start' : 'middle'}
          class="invoke"
        >
          invokes {src}
        </text>
      ))}
    </g>
  );
}

export interface StatechartProps {
  drawing: Drawing;
  active: ReadonlySet<string>;
  /** The innermost active states (highlighted strongest). */
  current: ReadonlySet<string>;
  /** The type of the last event received, to emphasise its edges. */
  lastEvent: string | undefined;
  title: string;
  /** Shrunk to the pane's width when it is wider (never enlarged). */
  fit: boolean;
}

export function StatechartSvg({ drawing, active, current, lastEvent, title, fit }: StatechartProps) {
  const containers = drawing.states.filter((s) => s.container).sort((a, b) => a.depth - b.depth);
  const leaves = drawing.states.filter((s) => !s.container);
  const w = Math.ceil(drawing.width);
  const h = Math.ceil(drawing.height);
  return (
    <svg
      class={`statechart${fit ? ' fit' : ''}`}
      data-testid="inspector-svg"
      width={w}
      height={h}
      viewBox={`0 0 ${w} ${h}`}
      aria-labelledby="statechart-title"
    >
      <title id="statechart-title">{title}</title>
      <defs>
        <marker
          id="arrow"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto-start-reverse"
        >
          <path d="M0,0 L10,5 L0,10 z" class="arrow-head" />
        </marker>
        <marker
          id="arrow-hot"
          viewBox="0 0 10 10"
          refX="9"
          refY="5"
          markerWidth="7"
          markerHeight="7"
          orient="auto-start-reverse"
        >
          <path d="M0,0 L10,5 L0,10 z" class="arrow-head hot" />
        </marker>
      </defs>
      {containers.map((s) => (
        <StateBox key={s.path} s={s} active={active.has(s.path)} current={current.has(s.path)} />
      ))}
      {drawing.initials.map((i) => (
        <circle key={`init-${i.path}`} class="initial" cx={i.x + i.size / 2} cy={i.y + i.size / 2} r={i.size / 2} />
      ))}
      {drawing.edges.map((e) => {
        const hot = lastEvent !== undefined && e.events.includes(lastEvent) && active.has(e.target);
        return (
          <g key={e.id} class={`edge${e.initial ? ' initial-edge' : ''}${hot ? ' hot' : ''}`} data-edge={e.id}>
            <path d={pathOf(e.points)} marker-end={hot ? 'url(#arrow-hot)' : 'url(#arrow)'} />
            {e.labels.map((l) => (
              <g key={`${l.x},${l.y}`} class="edge-label">
                <rect x={l.x - 2} y={l.y - 1} width={l.width + 4} height={l.height + 2} rx="3" />
                {l.lines.map((line, i) => (
                  <text key={line} x={l.x + 4} y={l.y + 12 + i * 14}>
                    {line}
                  </text>
                ))}
              </g>
            ))}
          </g>
        );
      })}
      {leaves.map((s) => (
        <StateBox key={s.path} s={s} active={active.has(s.path)} current={current.has(s.path)} />
      ))}
    </svg>
  );
}
