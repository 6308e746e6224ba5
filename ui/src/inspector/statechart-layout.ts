// A machine model laid out as a statechart by ELK (layered, hierarchical: `elk.hierarchyHandling:
// INCLUDE_CHILDREN`): compound and parallel states are containers of their children, each container has an
// initial-state dot, and transitions are edges labelled with their event and guard. Transitions between the same two
// states are merged into one edge with one label line each. The result is in absolute coordinates, ready to draw.
import type { ElkLabel, ElkNode, ElkExtendedEdge as ExtendedEdge } from 'elkjs/lib/elk-api';
import { layoutGraph } from '../graph/elk';
import { eventLabel, type MachineModel, type StateModel, type StateType } from './machine-model';

export interface DrawnState {
  path: string;
  key: string;
  type: StateType;
  container: boolean;
  depth: number;
  invokes: string[];
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface DrawnLabel {
  x: number;
  y: number;
  width: number;
  height: number;
  lines: string[];
}

export interface DrawnEdge {
  id: string;
  source: string;
  target: string;
  /** The events that take it (for highlighting the last event's edge). */
  events: string[];
  initial: boolean;
  points: { x: number; y: number }[];
  labels: DrawnLabel[];
}

export interface Drawing {
  width: number;
  height: number;
  states: DrawnState[];
  /** Initial-state dots, in the container of `path`. */
  initials: { path: string; x: number; y: number; size: number }[];
  edges: DrawnEdge[];
}

const CHAR = 7.2;
const LABEL_CHAR = 6.4;
const LINE = 14;
const MAX_LABEL_LINES = 5;
const INIT = 12;

const nodeId = (path: string) => `s:${path}`;
const initId = (path: string) => `i:${path}`;
const isContainer = (s: StateModel) => (s.type === 'compound' || s.type === 'parallel') && s.children.length > 0;

function leafSize(s: StateModel): { width: number; height: number } {
  if (s.type === 'history') return { width: 30, height: 30 };
  const widest = Math.max(s.key.length * CHAR, ...s.invokes.map((i) => (i.length + 8) * LABEL_CHAR));
  return { width: Math.max(84, Math.ceil(widest) + 28), height: 32 + s.invokes.length * LINE };
}

function label(lines: string[]): ElkLabel {
  const shown =
    lines.length > MAX_LABEL_LINES
      ? [...lines.slice(0, MAX_LABEL_LINES - 1), `+${lines.length - MAX_LABEL_LINES + 1} more`]
      : lines;
  const width = Math.ceil(Math.max(...shown.map((l) => l.length)) * LABEL_CHAR) + 8;
  return { text: shown.join('\n'), width, height: shown.length * LINE + 4 };
}

/** The nearest state containing both paths (`''` is the machine itself). */
function commonAncestor(a: string, b: string): string {
  const pa = a === '' ? [] : a.split('.');
  const pb = b === '' ? [] : b.split('.');
  const common: string[] = [];
  for (let i = 0; i < Math.min(pa.length, pb.length) && pa[i] === pb[i]; i++) common.push(pa[i]!);
  return common.join('.');
}

export function buildElkGraph(model: MachineModel): ElkNode {
  const nodes = new Map<string, ElkNode>();
  const build = (s: StateModel): ElkNode => {
    const node: ElkNode = { id: nodeId(s.path) };
    if (isContainer(s) || s.path === '') {
      node.children = s.children.map(build);
      node.edges = [];
      node.layoutOptions = {
        'elk.padding': `[top=${30 + s.invokes.length * LINE},left=14,bottom=14,right=14]`,
      };
      if (s.initial !== undefined && s.type !== 'parallel') {
        node.children.unshift({ id: initId(s.path), width: INIT, height: INIT });
      }
    } else {
      Object.assign(node, leafSize(s));
    }
    nodes.set(s.path, node);
    return node;
  };
  const machine = build(model.root);

  // ELK's containment: the lowest common ancestor; a state that contains the other end holds the edge itself; a
  // self-transition belongs to its state's parent.
  const parentOf = (path: string) => (path.includes('.') ? path.slice(0, path.lastIndexOf('.')) : '');
  const edgeIn = (container: string, edge: ExtendedEdge) => {
    let path = container;
    while (path !== '' && !nodes.get(path)?.edges) path = parentOf(path);
    (nodes.get(path) ?? machine).edges!.push(edge);
  };

  for (const s of model.states.values()) {
    if (s.initial !== undefined && s.type !== 'parallel' && (isContainer(s) || s.path === '')) {
      edgeIn(s.path, { id: `init:${s.path}`, sources: [initId(s.path)], targets: [nodeId(s.initial)] });
    }
  }
  const merged = new Map<string, { source: string; target: string; lines: string[] }>();
  for (const t of model.transitions) {
    for (const target of t.targets) {
      const key = `${t.source}→${target}`;
      const entry = merged.get(key) ?? { source: t.source, target, lines: [] };
      const line = `${eventLabel(t.event)}${t.guard ? ` [${t.guard}]` : ''}`;
      if (!entry.lines.includes(line)) entry.lines.push(line);
      merged.set(key, entry);
    }
  }
  let n = 0;
  for (const e of merged.values()) {
    if (e.source === '' && e.target === '') continue;
    edgeIn(e.source === e.target ? parentOf(e.source) : commonAncestor(e.source, e.target), {
      id: `t${n++}:${e.source}→${e.target}`,
      sources: [nodeId(e.source)],
      targets: [nodeId(e.target)],
      labels: [label(e.lines)],
    });
  }
  return {
    id: 'graph',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.direction': 'DOWN',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.layered.spacing.nodeNodeBetweenLayers': '40',
      'elk.spacing.nodeNode': '28',
      'elk.spacing.edgeNode': '14',
      'elk.spacing.edgeEdge': '10',
      'elk.spacing.edgeLabel': '3',
      'elk.layered.nodePlacement.strategy': 'BRANDES_KOEPF',
      'elk.json.edgeCoords': 'ROOT',
      'elk.json.shapeCoords': 'ROOT',
      'elk.padding': '[top=8,left=8,bottom=8,right=8]',
    },
    children: [machine],
  };
}

/** Reads ELK's answer into shapes to draw. */
export function toDrawing(model: MachineModel, laid: ElkNode): Drawing {
  const states: DrawnState[] = [];
  const initials: Drawing['initials'] = [];
  const visit = (node: ElkNode, depth: number) => {
    if (node.id.startsWith('i:')) {
      initials.push({ path: node.id.slice(2), x: node.x ?? 0, y: node.y ?? 0, size: node.width ?? INIT });
      return;
    }
    const path = node.id.slice(2);
    const s = model.states.get(path);
    if (s) {
      states.push({
        path,
        key: s.key,
        type: s.type,
        container: isContainer(s) || path === '',
        depth,
        invokes: s.invokes,
        x: node.x ?? 0,
        y: node.y ?? 0,
        width: node.width ?? 0,
        height: node.height ?? 0,
      });
    }
    for (const child of node.children ?? []) visit(child, depth + 1);
  };
  const edges: DrawnEdge[] = [];
  const collect = (node: ElkNode) => {
    for (const e of node.edges ?? []) {
      const points = (e.sections ?? []).flatMap((sec) => [sec.startPoint, ...(sec.bendPoints ?? []), sec.endPoint]);
      const source = e.sources[0]!.slice(2);
      const target = e.targets[0]!.slice(2);
      const initial = e.id.startsWith('init:');
      edges.push({
        id: e.id,
        source,
        target,
        events: initial
          ? []
          : model.transitions.filter((t) => t.source === source && t.targets.includes(target)).map((t) => t.event),
        initial,
        points,
        labels: (e.labels ?? []).map((l) => ({
          x: l.x ?? 0,
          y: l.y ?? 0,
          width: l.width ?? 0,
          height: l.height ?? 0,
          lines: (l.text ?? '').split('\n'),
        })),
      });
    }
    for (const child of node.children ?? []) collect(child);
  };
  for (const child of laid.children ?? []) visit(child, 0);
  collect(laid);
  return { width: laid.width ?? 0, height: laid.height ?? 0, states, initials, edges };
}

/** How much a drawing must shrink to fit a pane of about 1100 × 900 px (lower is better). */
const shrink = (d: Drawing) => Math.max(d.width / 1100, d.height / 900);

/** Laid out top-down and left-right; the one that fits a page better is kept. */
export async function layoutMachine(model: MachineModel): Promise<Drawing> {
  const directions = ['DOWN', 'RIGHT'] as const;
  const drawings = await Promise.all(
    directions.map(async (direction) => {
      const graph = buildElkGraph(model);
      graph.layoutOptions = { ...graph.layoutOptions, 'elk.direction': direction };
      return toDrawing(model, await layoutGraph(graph));
    }),
  );
  return drawings.reduce((best, d) => (shrink(d) < shrink(best) ? d : best));
}
