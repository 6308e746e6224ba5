// The fleet: clusters with quorum and health, nodes with their state, load and a sparkline of what this page saw,
// and every guest in a virtualised table, filterable by cluster, node, tag, state, production and type — live.
import { useMemo, useState } from 'preact/hooks';
import type { VmView } from '../api/types';
import { Badge, ErrorNote, Loading } from '../components/common';
import { Sparkline } from '../components/sparkline';
import { bytes, percent, words } from '../format';
import { useTopics } from '../live/hooks';
import { store } from '../live/store';
import { FleetTable } from './fleet-table';

export interface Filters {
  cluster: string;
  node: string;
  tag: string;
  state: string;
  production: '' | 'yes' | 'no';
  type: '' | 'qemu' | 'lxc';
  text: string;
}

const NO_FILTERS: Filters = { cluster: '', node: '', tag: '', state: '', production: '', type: '', text: '' };
/** Kept while the page is open, so that coming back from a guest finds the same filters. */
let remembered: Filters = NO_FILTERS;

export function matches(vm: VmView, f: Filters): boolean {
  if (f.cluster && vm.cluster !== f.cluster) return false;
  if (f.node && vm.node !== f.node) return false;
  if (f.tag && !vm.tags.includes(f.tag)) return false;
  if (f.state && vm.state !== f.state) return false;
  if (f.production && vm.production !== (f.production === 'yes')) return false;
  if (f.type && vm.type !== f.type) return false;
  if (f.text) {
    const t = f.text.toLowerCase();
    if (!vm.name.toLowerCase().includes(t) && !String(vm.vmid).includes(t)) return false;
  }
  return true;
}

/** The VM actor's states (machines/vm.machine.ts), offered even when no guest is in one right now. */
const KNOWN_STATES = ['running', 'stopped', 'paused', 'locked', 'unknown', 'starting', 'stopping', 'migrating'];

const sorted = (values: Iterable<string>) => [...new Set(values)].sort((a, b) => a.localeCompare(b));

export function FleetView() {
  return (
    <>
      <h1>Fleet</h1>
      <Clusters />
      <Nodes />
      <Guests />
    </>
  );
}

const active = (f: Filters) => Object.values(f).some((v) => v !== '');

/** The guests: filters and the virtualised table (re-rendered at most once a frame, when guests change). */
function Guests() {
  useTopics(['vms']);
  const [filters, setFilters] = useState<Filters>(remembered);
  const list = store.vmList;
  const set = (patch: Partial<Filters>) => {
    const next = { ...filters, ...patch };
    remembered = next;
    setFilters(next);
  };

  // Recomputed when guests come or go, not at every state change.
  const options = useMemo(() => {
    const clusters = new Set<string>();
    const nodes = new Set<string>();
    const tags = new Set<string>();
    const states = new Set<string>();
    for (const vm of list) {
      clusters.add(vm.cluster);
      if (!filters.cluster || vm.cluster === filters.cluster) nodes.add(vm.node);
      for (const tag of vm.tags) tags.add(tag);
      states.add(vm.state);
    }
    for (const state of KNOWN_STATES) states.add(state);
    if (filters.state) states.add(filters.state);
    return { clusters: sorted(clusters), nodes: sorted(nodes), tags: sorted(tags), states: sorted(states) };
  }, [store.membershipVersion, filters.cluster, filters.state]);
  const rows = useMemo(() => (active(filters) ? list.filter((vm) => matches(vm, filters)) : list), [list, filters]);
  const loadingMore = store.vmsLoaded && !store.vmsComplete && !store.vmsError;

  return (
    <section aria-labelledby="guests-h">
      <h2 id="guests-h">Guests</h2>
      <form class="filters" onSubmit={(e) => e.preventDefault()} aria-label="Filter the guests">
        <Select
          label="Cluster"
          id="f-cluster"
          value={filters.cluster}
          options={options.clusters}
          onChange={(cluster) => set({ cluster, node: '' })}
        />
        <Select
          label="Node"
          id="f-node"
          value={filters.node}
          options={options.nodes}
          onChange={(node) => set({ node })}
        />
        <Select label="Tag" id="f-tag" value={filters.tag} options={options.tags} onChange={(tag) => set({ tag })} />
        <Select
          label="State"
          id="f-state"
          value={filters.state}
          options={options.states}
          onChange={(state) => set({ state })}
        />
        <Select
          label="Production"
          id="f-production"
          value={filters.production}
          options={[
            ['yes', 'production only'],
            ['no', 'not production'],
          ]}
          onChange={(production) => set({ production: production as Filters['production'] })}
        />
        <Select
          label="Type"
          id="f-type"
          value={filters.type}
          options={[
            ['qemu', 'VMs'],
            ['lxc', 'containers'],
          ]}
          onChange={(type) => set({ type: type as Filters['type'] })}
        />
        <div class="field">
          <label for="f-text">Name or VMID</label>
          <input
            id="f-text"
            type="search"
            data-testid="filter-text"
            value={filters.text}
            onInput={(e) => set({ text: (e.target as HTMLInputElement).value })}
          />
        </div>
        <button type="button" class="quiet" onClick={() => set(NO_FILTERS)}>
          Clear filters
        </button>
      </form>
      {/* Busy while the pages arrive: read once, when the last one is in. */}
      <p class="muted" aria-live="polite" aria-busy={loadingMore} data-testid="fleet-count">
        {rows.length} of {list.length} guests{loadingMore ? ' (more are loading…)' : ''}
      </p>
      <ErrorNote error={store.vmsError} />
      {store.vmsLoaded ? <FleetTable rows={rows} total={list.length} /> : <Loading what="guests" />}
    </section>
  );
}

function Select(props: {
  label: string;
  id: string;
  value: string;
  options: readonly (string | [string, string])[];
  onChange: (value: string) => void;
}) {
  return (
    <div class="field">
      <label for={props.id}>{props.label}</label>
      <select
        id={props.id}
        data-testid={props.id.replace(/^f-/, 'filter-')}
        value={props.value}
        onChange={(e) => props.onChange((e.target as HTMLSelectElement).value)}
      >
        <option value="">any</option>
        {props.options.map((o) => {
          const [value, text] = typeof o === 'string' ? [o, words(o)] : o;
          return (
            <option key={value} value={value}>
              {text}
            </option>
          );
        })}
      </select>
    </div>
  );
}

function Clusters() {
  useTopics(['vms', 'hosts']);
  const counts = store.stateCounts;
  const clusters =
    store.summary?.clusters ?? [...counts.keys()].map((cluster) => ({ cluster, reachable: true, quorate: true }));
  return (
    <section aria-labelledby="clusters-h">
      <h2 id="clusters-h">Clusters</h2>
      {clusters.length === 0 ? <Loading what="clusters" /> : null}
      <ul class="cards">
        {clusters.map((c) => {
          const states = counts.get(c.cluster) ?? new Map<string, number>();
          const total = [...states.values()].reduce((a, b) => a + b, 0);
          const healthy = c.reachable && c.quorate;
          return (
            <li key={c.cluster} class="card" data-testid={`cluster-${c.cluster}`} data-healthy={String(healthy)}>
              <h3>{c.cluster}</h3>
              <p>
                <Badge value={c.reachable ? 'online' : 'offline'} label={c.reachable ? 'reachable' : 'unreachable'} />{' '}
                <Badge value={c.quorate ? 'online' : 'offline'} label={c.quorate ? 'quorate' : 'no quorum'} />
              </p>
              <p class="muted">
                {total} guests
                {[...states.entries()]
                  .sort((a, b) => b[1] - a[1])
                  .map(([state, n]) => ` · ${n} ${words(state)}`)
                  .join('')}
              </p>
            </li>
          );
        })}
      </ul>
    </section>
  );
}

function Nodes() {
  useTopics(['hosts']);
  const hosts = [...store.hosts.values()].sort((a, b) =>
    `${a.cluster}/${a.node}`.localeCompare(`${b.cluster}/${b.node}`),
  );
  return (
    <section aria-labelledby="nodes-h">
      <h2 id="nodes-h">Nodes</h2>
      {hosts.length === 0 ? <Loading what="nodes" /> : null}
      <ul class="cards">
        {hosts.map((h) => {
          const key = `${h.cluster}/${h.node}`;
          const samples = store.samples.get(key) ?? [];
          return (
            <li key={key} class="card node" data-testid={`node-${h.cluster}-${h.node}`} data-state={h.state}>
              <h3>
                {h.node} <span class="muted">{h.cluster}</span> <Badge value={h.state} />
              </h3>
              <div class="load">
                <span class="load-name">CPU</span>
                <span class="load-value">
                  {percent(h.cpu)} <span class="muted">of {h.maxcpu}</span>
                </span>
                <Sparkline
                  samples={samples}
                  pick="cpu"
                  label={`${h.node} CPU`}
                  testid={`spark-cpu-${h.cluster}-${h.node}`}
                />
                <span class="load-name">Memory</span>
                <span class="load-value">
                  {bytes(h.mem)} <span class="muted">/ {bytes(h.maxmem)}</span>
                </span>
                <Sparkline
                  samples={samples}
                  pick="mem"
                  label={`${h.node} memory`}
                  testid={`spark-mem-${h.cluster}-${h.node}`}
                />
              </div>
            </li>
          );
        })}
      </ul>
    </section>
  );
}
