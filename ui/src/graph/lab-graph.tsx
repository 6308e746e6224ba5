// A lab's dependency graph: its members as boxes (name, phase, VMID), an arrow from each member to those that
// depend on it, laid out by ELK in waves from left to right. Each box's colour family follows its phase.
import { useEffect, useState } from 'preact/hooks';
import type { LabMemberView } from '../api/types';
import { toneOf, words } from '../format';
import { layoutGraph } from './elk';

interface Box {
  name: string;
  phase: string;
  vmid: number | undefined;
  x: number;
  y: number;
  width: number;
  height: number;
}

interface Laid {
  width: number;
  height: number;
  boxes: Box[];
  edges: { id: string; points: { x: number; y: number }[] }[];
}

const boxWidth = (m: LabMemberView) => Math.max(110, Math.ceil(Math.max(m.name.length, m.phase.length + 4) * 7.4) + 24);

async function layoutMembers(members: readonly LabMemberView[]): Promise<Laid> {
  const names = new Set(members.map((m) => m.name));
  const graph = {
    id: 'lab',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '50',
      'elk.spacing.nodeNode': '18',
      'elk.layered.considerModelOrder.strategy': 'NODES_AND_EDGES',
      'elk.padding': '[top=8,left=8,bottom=8,right=8]',
    },
    children: members.map((m) => ({ id: m.name, width: boxWidth(m), height: 46 })),
    edges: members.flatMap((m) =>
      m.dependsOn.filter((d) => names.has(d)).map((d) => ({ id: `${d}->${m.name}`, sources: [d], targets: [m.name] })),
    ),
  };
  const laid = await layoutGraph(graph);
  const byName = new Map(members.map((m) => [m.name, m]));
  return {
    width: laid.width ?? 0,
    height: laid.height ?? 0,
    boxes: (laid.children ?? []).map((c) => {
      const m = byName.get(c.id)!;
      return {
        name: m.name,
        phase: m.phase,
        vmid: m.vmid,
        x: c.x ?? 0,
        y: c.y ?? 0,
        width: c.width ?? 0,
        height: c.height ?? 0,
      };
    }),
    edges: (laid.edges ?? []).map((e) => ({
      id: e.id,
      points: (e.sections ?? []).flatMap((s) => [s.startPoint, ...(s.bendPoints ?? []), s.endPoint]),
    })),
  };
}

export function LabGraph({ members }: { members: readonly LabMemberView[] }) {
  // Laid out again only when the members or their dependencies change (a phase change only recolours).
  const shape = members.map((m) => `${m.name}<${m.dependsOn.join(',')}`).join(';');
  const [laid, setLaid] = useState<{ shape: string; laid?: Laid; error?: string }>({ shape: '' });
  useEffect(() => {
    let live = true;
    layoutMembers(members).then(
      (l) => live && setLaid({ shape, laid: l }),
      (error: unknown) => live && setLaid({ shape, error: (error as Error).message }),
    );
    return () => {
      live = false;
    };
  }, [shape]);
  if (laid.error) return <p class="error">The dependency graph could not be laid out: {laid.error}</p>;
  if (!laid.laid) return <p class="muted">Laying out the dependency graph…</p>;
  const phases = new Map(members.map((m) => [m.name, m]));
  const { width, height } = laid.laid;
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be focusable
    <section class="chart-scroll" tabIndex={0} aria-label="Dependency graph (scrolls)">
      <svg
        class="lab-graph"
        data-testid="lab-graph"
        width={Math.ceil(width)}
        height={Math.ceil(height)}
        viewBox={`0 0 ${Math.ceil(width)} ${Math.ceil(height)}`}
        role="img"
        aria-label={`Dependencies: ${members.map((m) => `${m.name} (${words(m.phase)})${m.dependsOn.length ? ` after ${m.dependsOn.join(', ')}` : ''}`).join('; ')}`}
      >
        <title>The lab’s members and what each waits for</title>
        <defs>
          <marker id="lab-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">
            <path d="M0,0 L10,5 L0,10 z" class="arrow-head" />
          </marker>
        </defs>
        {laid.laid.edges.map((e) => (
          <path
            key={e.id}
            class="lab-edge"
            d={e.points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x},${p.y}`).join(' ')}
            marker-end="url(#lab-arrow)"
          />
        ))}
        {laid.laid.boxes.map((b) => {
          const phase = phases.get(b.name)?.phase ?? b.phase;
          return (
            <g key={b.name} class={`lab-node tone-${toneOf(phase)}`} data-member={b.name} data-phase={phase}>
              <title>{`${b.name}: ${words(phase)}, wave ${phases.get(b.name)?.wave ?? '?'}`}</title>
              <rect x={b.x} y={b.y} width={b.width} height={b.height} rx="6" />
              <text x={b.x + b.width / 2} y={b.y + 19} text-anchor="middle" class="state-name">
                {b.name}
              </text>
              <text x={b.x + b.width / 2} y={b.y + 36} text-anchor="middle" class="invoke">
                {words(phase)}
                {phases.get(b.name)?.vmid !== undefined ? ` · ${phases.get(b.name)?.vmid}` : ''}
              </text>
            </g>
          );
        })}
      </svg>
    </section>
  );
}
