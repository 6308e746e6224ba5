// A sparkline: one of a node's loads (CPU or memory, 0–100 %) over the time this page has watched it, as a line
// over a filled area. Its label says the value now and how many readings it shows.
import { percent } from '../format';
import type { LoadSample } from '../live/store';

const W = 120;
const H = 28;

function path(samples: readonly LoadSample[], pick: (s: LoadSample) => number): { line: string; area: string } {
  const level = (s: LoadSample) => (H - 2 - Math.min(1, Math.max(0, pick(s))) * (H - 4)).toFixed(1);
  if (samples.length === 0) return { line: '', area: '' };
  let points: string[];
  if (samples.length === 1) {
    // One reading: a flat line at its level until the next one arrives.
    const y = level(samples[0]!);
    points = [`1,${y}`, `${W - 1},${y}`];
  } else {
    const first = samples[0]!.at;
    const span = Math.max(1, samples[samples.length - 1]!.at - first);
    points = samples.map((s) => `${(((s.at - first) / span) * (W - 2) + 1).toFixed(1)},${level(s)}`);
  }
  const line = `M${points.join(' L')}`;
  const lastX = points[points.length - 1]!.split(',')[0];
  const firstX = points[0]!.split(',')[0];
  return { line, area: `${line} L${lastX},${H - 1} L${firstX},${H - 1} Z` };
}

export function Sparkline(props: {
  samples: readonly LoadSample[];
  pick: 'cpu' | 'mem';
  label: string;
  testid?: string;
}) {
  const { samples, pick } = props;
  const last = samples[samples.length - 1];
  const text = last
    ? `${props.label}: ${percent(last[pick])} now; ${samples.length} readings since this page opened`
    : `${props.label}: no reading yet`;
  const { line, area } = path(samples, (s) => s[pick]);
  return (
    <svg
      class={`sparkline spark-${pick}`}
      width={W}
      height={H}
      viewBox={`0 0 ${W} ${H}`}
      role="img"
      aria-label={text}
      data-testid={props.testid}
      data-readings={samples.length}
    >
      <title>{text}</title>
      <rect x="0.5" y="0.5" width={W - 1} height={H - 1} class="spark-frame" />
      <path d={area} class="spark-area" />
      <path d={line} class="spark-line" />
    </svg>
  );
}
