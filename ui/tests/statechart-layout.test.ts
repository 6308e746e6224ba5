// The statechart's ELK graph (containment of edges, initial dots) and its layout by ELK itself: every state drawn
// inside its parent, every transition drawn with its label.
import ELK from 'elkjs/lib/elk.bundled.js';
import { describe, expect, it } from 'vitest';
import { hostMachine } from '../../machines/host.machine';
import { vmMachine } from '../../machines/vm.machine';
import { parseMachine } from '../src/inspector/machine-model';
import { buildElkGraph, toDrawing } from '../src/inspector/statechart-layout';

const elk = new ELK();
/** The definition as GET /v1/actors/{id}/inspect carries it: machine.toJSON() through JSON. */
const wire = (machine: { toJSON(): unknown }): unknown => JSON.parse(JSON.stringify(machine.toJSON()));

describe('statechart layout', () => {
  it('statechart layout - a transition from the machine to its states is held by the machine node', () => {
    const graph = buildElkGraph(parseMachine(wire(vmMachine)));
    const machine = graph.children?.[0];
    expect(machine?.id).toBe('s:');
    const observed = machine?.edges?.find((e) => e.sources[0] === 's:' && e.targets[0] === 's:running');
    expect(observed?.labels?.[0]?.text).toBe('OBSERVED [observedRunning]');
    expect(machine?.children?.some((c) => c.id === 'i:')).toBe(true);
  });

  it('statechart layout - ELK places nested states inside their container, in page coordinates', async () => {
    const model = parseMachine(wire(hostMachine));
    const drawing = toDrawing(model, await elk.layout(buildElkGraph(model)));
    const box = (path: string) => drawing.states.find((s) => s.path === path)!;
    const degraded = box('degraded');
    for (const child of ['degraded.overloaded', 'degraded.noQuorum', 'degraded.unresponsive']) {
      const c = box(child);
      expect(c.x).toBeGreaterThanOrEqual(degraded.x);
      expect(c.y).toBeGreaterThanOrEqual(degraded.y);
      expect(c.x + c.width).toBeLessThanOrEqual(degraded.x + degraded.width);
      expect(c.y + c.height).toBeLessThanOrEqual(degraded.y + degraded.height);
    }
    expect(degraded.container).toBe(true);
    expect(drawing.initials.map((i) => i.path).sort()).toEqual(['', 'degraded']);
    for (const edge of drawing.edges) expect(edge.points.length).toBeGreaterThanOrEqual(2);
  });

  it('statechart layout - merges the transitions between two states into one edge with a line each', async () => {
    const model = parseMachine(wire(vmMachine));
    const drawing = toDrawing(model, await elk.layout(buildElkGraph(model)));
    const fromStarting = drawing.edges.filter((e) => e.source === 'starting');
    expect(fromStarting.map((e) => e.target).sort()).toEqual(['destroyed', 'discovered']);
    const toDiscovered = fromStarting.find((e) => e.target === 'discovered')!;
    expect(toDiscovered.labels[0]?.lines).toEqual(['OPERATION_ENDED [isOwnOperation]']);
    expect(toDiscovered.events).toEqual(['OPERATION_ENDED']);
  });
});
