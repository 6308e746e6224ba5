// The actor inspector: pick an actor (GET /v1/actors), see its machine drawn as a statechart from its own
// definition (GET /v1/actors/{id}/inspect: machine.toJSON()), the current state highlighted, and the events it
// received with their times. It refreshes when an event about the actor arrives, and every 2 s besides.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api } from '../api/endpoints';
import type { ActorInspection, ActorKind } from '../api/types';
import { Badge, Empty, ErrorNote, Loading } from '../components/common';
import { clock, dateTime } from '../format';
import { activePaths, type MachineModel, parseMachine, valueFromName } from '../inspector/machine-model';
import { type Drawing, layoutMachine } from '../inspector/statechart-layout';
import { StatechartSvg } from '../inspector/statechart-svg';
import { useLoad } from '../live/hooks';
import { inspectHref } from '../router';

const KINDS: readonly ActorKind[] = ['overseer', 'loop', 'host', 'vm', 'request', 'incident', 'lab'];

/** Development only: `#/inspect/fixture:vm` draws the VM machine from a fixture (never in the build). */
async function loadInspection(id: string, signal: AbortSignal): Promise<ActorInspection> {
  if (import.meta.env.DEV && id === 'fixture:vm') {
    const machine = (await import('../fixtures/vm-machine.json')).default;
    const states = ['running', 'stopping', 'stopped', 'starting'];
    const state = states[Math.floor(Date.now() / 4000) % states.length];
    return {
      id,
      kind: 'vm',
      value: state,
      state,
      status: 'active',
      machine,
      events: [{ type: 'OBSERVED', at: Date.now() }],
    };
  }
  return api.inspect(id, signal);
}

export function InspectView({ actorId }: { actorId: string | undefined }) {
  return (
    <>
      <h1>{actorId ? `Inspector: ${actorId}` : 'Inspector'}</h1>
      <Picker current={actorId} />
      {actorId ? (
        <Actor id={actorId} />
      ) : (
        <Empty>Pick an actor to see its statechart and the events it received.</Empty>
      )}
    </>
  );
}

function Picker({ current }: { current: string | undefined }) {
  const [kind, setKind] = useState<ActorKind | ''>(current ? '' : 'vm');
  const [prefix, setPrefix] = useState('');
  const [query, setQuery] = useState('');
  useEffect(() => {
    const t = setTimeout(() => setQuery(prefix.trim()), 300);
    return () => clearTimeout(t);
  }, [prefix]);
  const loaded = useLoad(
    (signal) => api.actors({ ...(kind ? { kind } : {}), ...(query ? { prefix: query } : {}), limit: 200 }, signal),
    [kind, query],
  );
  return (
    <details class="picker" open={!current}>
      <summary>{current ? 'Pick another actor' : 'Pick an actor'}</summary>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="actor-kind">Kind</label>
          <select
            id="actor-kind"
            data-testid="actor-kind"
            value={kind}
            onChange={(e) => setKind((e.target as HTMLSelectElement).value as ActorKind | '')}
          >
            <option value="">any</option>
            {KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="actor-prefix">Id starts with</label>
          <input
            id="actor-prefix"
            data-testid="actor-prefix"
            placeholder="vm:lab/1"
            value={prefix}
            onInput={(e) => setPrefix((e.target as HTMLInputElement).value)}
          />
        </div>
      </form>
      <ErrorNote error={loaded.error} />
      {loaded.data ? (
        <>
          <p class="muted">
            {loaded.data.items.length} of {loaded.data.total} actors
          </p>
          <ul class="actor-list" data-testid="actor-list">
            {loaded.data.items.map((a) => (
              <li key={a.id}>
                <a
                  href={inspectHref(a.id)}
                  aria-current={a.id === current ? 'page' : undefined}
                  data-testid={`actor-${a.id}`}
                >
                  {a.id}
                </a>{' '}
                <Badge value={a.state} />
              </li>
            ))}
          </ul>
        </>
      ) : (
        <Loading what="actors" />
      )}
    </details>
  );
}

/** Layouts by machine definition: a machine is laid out once, however many of its actors are looked at. */
const layouts = new Map<string, Promise<Drawing>>();

function useDrawing(machine: unknown): { model?: MachineModel; drawing?: Drawing; error?: string } {
  const text = useMemo(() => (machine === undefined ? '' : JSON.stringify(machine)), [machine]);
  const model = useMemo(() => {
    if (text === '') return { model: undefined, error: undefined };
    try {
      return { model: parseMachine(JSON.parse(text)), error: undefined };
    } catch (error) {
      return { model: undefined, error: (error as Error).message };
    }
  }, [text]);
  const [drawn, setDrawn] = useState<{ text: string; drawing?: Drawing; error?: string }>({ text: '' });
  useEffect(() => {
    if (!model.model) return;
    let layout = layouts.get(text);
    if (!layout) {
      layout = layoutMachine(model.model);
      layouts.set(text, layout);
      layout.catch(() => layouts.delete(text));
    }
    let live = true;
    layout.then(
      (drawing) => live && setDrawn({ text, drawing }),
      (error: unknown) =>
        live && setDrawn({ text, error: `The statechart could not be laid out: ${(error as Error).message}` }),
    );
    return () => {
      live = false;
    };
  }, [model, text]);
  return {
    ...(model.model ? { model: model.model } : {}),
    ...(drawn.text === text && drawn.drawing ? { drawing: drawn.drawing } : {}),
    ...(model.error ? { error: model.error } : drawn.text === text && drawn.error ? { error: drawn.error } : {}),
  };
}

function Actor({ id }: { id: string }) {
  const loaded = useLoad((signal) => loadInspection(id, signal), [id], {
    topics: [`actor:${id}`],
    throttleMs: 250,
    pollMs: 2000,
  });
  const data = loaded.data;
  const { drawing, error } = useDrawing(data?.machine);
  const [fit, setFit] = useState<boolean | undefined>(undefined);
  const fitted = fit ?? (drawing !== undefined && drawing.width <= 1600);
  const value = data
    ? (data.value ?? (typeof data.state === 'string' ? valueFromName(data.state) : data.state))
    : undefined;
  const active = useMemo(() => activePaths(value), [JSON.stringify(value)]);
  const current = useMemo(
    () => new Set([...active].filter((p) => ![...active].some((q) => q.startsWith(`${p}.`)))),
    [active],
  );
  const stateText = [...current].join(', ') || String(data?.state ?? '');
  const scroller = useRef<HTMLElement>(null);
  // The current state in view: the chart scrolls to it when it changes (when it is not in view already).
  useEffect(() => {
    const box = scroller.current;
    const first = [...current][0];
    const node = first === undefined ? null : box?.querySelector(`[data-path="${CSS.escape(first)}"]`);
    if (!box || !node) return;
    const b = box.getBoundingClientRect();
    const n = node.getBoundingClientRect();
    if (n.top >= b.top && n.bottom <= b.bottom && n.left >= b.left && n.right <= b.right) return;
    box.scrollTo({
      top: box.scrollTop + n.top - b.top - (b.height - n.height) / 2,
      left: box.scrollLeft + n.left - b.left - (b.width - n.width) / 2,
    });
  }, [stateText, drawing, fitted]);
  if (!data) return loaded.loading ? <Loading what="the actor" /> : <ErrorNote error={loaded.error} />;
  const events = [...data.events].reverse();
  const last = data.events[data.events.length - 1];
  return (
    <div class="inspector">
      <p class="lead">
        {data.kind} actor, {data.status}; state{' '}
        <span data-testid="inspector-state" data-state={stateText}>
          <Badge value={stateText} />
        </span>
      </p>
      <ErrorNote error={loaded.error} />
      <div class="inspector-panes">
        <section aria-labelledby="chart-h" class="chart-pane">
          <h2 id="chart-h">Statechart</h2>
          <ErrorNote error={error} />
          {drawing ? (
            <label class="check">
              <input
                type="checkbox"
                checked={fitted}
                onChange={(e) => setFit((e.target as HTMLInputElement).checked)}
              />{' '}
              Shrink to the page’s width
            </label>
          ) : null}
          {drawing ? (
            // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable region must be focusable
            <section class="chart-scroll" ref={scroller} tabIndex={0} aria-label="Statechart (scrolls)">
              <StatechartSvg
                drawing={drawing}
                active={active}
                current={current}
                lastEvent={last?.type}
                title={`The ${data.kind} machine of ${data.id}; active: ${stateText}`}
                fit={fitted}
              />
            </section>
          ) : error ? null : (
            <Loading what="the statechart layout" />
          )}
        </section>
        <section aria-labelledby="events-h" class="events-pane">
          <h2 id="events-h">Events received</h2>
          {
            // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable list must be reachable by keyboard
            <section class="events" tabIndex={0} aria-label="Events received, newest first">
              <ol data-testid="inspector-events" reversed>
                {events.map((e, i) => (
                  <li key={`${e.at}-${i}`}>
                    <time dateTime={new Date(e.at).toISOString()} title={dateTime(e.at)}>
                      {clock(e.at)}
                    </time>{' '}
                    <code>{e.type}</code>
                  </li>
                ))}
              </ol>
              {events.length === 0 ? <p class="muted">No event recorded yet.</p> : null}
            </section>
          }
        </section>
      </div>
    </div>
  );
}
