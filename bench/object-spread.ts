// Why the hot paths avoid object literals that begin with a spread and go on (`{ ...snapshot, status: 'done' }`):
// when such a literal adds a key its source lacks, Node 20's V8 (11.3) gives each object a hidden class of its own
// instead of reusing one: every literal costs a new map (and its descriptors) in the old generation, freed only by a
// full collection. Built with Object.assign, or with its fields written out, the objects share one hidden class; a
// spread that only replaces keys its source has is fine (and faster than Object.assign). Measured in one run: ns per
// object and old space left behind per object, for a snapshot-like object of 10 fields. (Not in `npm run
// bench`; see bench/README.md, session 22, and patches/xstate+5.33.3.patch.)
// Run: node --expose-gc --import tsx bench/object-spread.ts [objects per round = 200000] [rounds = 3]
import { getHeapSpaceStatistics } from 'node:v8';

const objects = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 3);
if (!(objects > 0) || !(rounds > 0)) throw new Error('usage: bench/object-spread.ts [objects] [rounds]');
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc --import tsx bench/object-spread.ts');

interface Snapshot {
  status: string;
  output: unknown;
  error: unknown;
  context: { n: number };
  value: string;
  children: object;
  historyValue: object;
  machine: null;
  tags: null;
  input: unknown;
}
const base: Snapshot = {
  status: 'active',
  output: undefined,
  error: undefined,
  context: { n: 0 },
  value: 'gating',
  children: {},
  historyValue: {},
  machine: null,
  tags: null,
  input: undefined,
};

// Two groups, each against its own spread (the baseline): replacing keys the source has, and adding one it lacks.
const ways: Record<string, (n: number) => object> = {
  'replace: `{ ...base, status, context }` (baseline)': (n) => ({ ...base, status: 'done', context: { n } }),
  'replace: Object.assign({}, base, { status, context })': (n) =>
    Object.assign({}, base, { status: 'done', context: { n } }),
  'add: `{ ...base, extra }` (baseline)': (n) => ({ ...base, extra: n }),
  'add: Object.assign({}, base, { extra })': (n) => Object.assign({}, base, { extra: n }),
  'add: fields written out': (n) => ({
    status: base.status,
    output: base.output,
    error: base.error,
    context: base.context,
    value: base.value,
    children: base.children,
    historyValue: base.historyValue,
    machine: base.machine,
    tags: base.tags,
    input: base.input,
    extra: n,
  }),
};

const oldSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;
const results = new Map<string, { ns: number[]; bytes: number[] }>();
let sink = 0;
for (let round = 0; round < rounds; round++) {
  for (const [name, make] of Object.entries(ways)) {
    gc();
    const before = oldSpace();
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < objects; i++) sink += Object.keys(make(i)).length;
    const ns = Number(process.hrtime.bigint() - t0) / objects;
    const bytes = (oldSpace() - before) / objects;
    const r = results.get(name) ?? { ns: [], bytes: [] };
    r.ns.push(ns);
    r.bytes.push(bytes);
    results.set(name, r);
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
/** The median ns of the first way of `name`'s group (its spread). */
const baselineOf = (name: string) => {
  const group = name.slice(0, name.indexOf(':'));
  const first = [...results].find(([k]) => k.startsWith(`${group}:`));
  return median(first?.[1].ns ?? []);
};
console.log(`Command: node --expose-gc --import tsx bench/object-spread.ts ${objects} ${rounds}`);
console.log(`Node ${process.version} (V8 ${process.versions.v8}); ${objects} objects per round, median of ${rounds}`);
console.log('\n| way | ns per object | vs baseline | old space per object (bytes) |\n|---|---:|---:|---:|');
for (const [name, r] of results) {
  const ns = median(r.ns);
  console.log(
    `| ${name} | ${ns.toFixed(0)} | ${(ns / baselineOf(name)).toFixed(3)}× | ${median(r.bytes).toFixed(0)} |`,
  );
}
if (sink < 0) console.log(sink);
