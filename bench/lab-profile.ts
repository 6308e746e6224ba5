// Summarises a V8 CPU profile (`node --cpu-prof`), as used for the lab benchmark's "where the wall time goes": self
// time by area (idle, GC, a folder of this repository, an npm package, Node's internals) and by function, and the
// inclusive time (itself and what it calls) of this repository's functions.
// Run: node --import tsx bench/lab-profile.ts <file.cpuprofile> [top=15]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface Profile {
  nodes: { id: number; callFrame: CallFrame; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error('usage: bench/lab-profile.ts <file.cpuprofile> [top]');
const top = Number(topArg ?? 15);
const root = `file://${join(import.meta.dirname, '..')}/`;
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const frames = new Map(profile.nodes.map((n) => [n.id, n.callFrame]));

/** Where a frame's code lives: a synthetic entry ((idle), (garbage collector)), a repo folder, a package, Node. */
function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) return functionName || '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return `npm ${pkg[1]}`;
  if (url.startsWith(root)) return `${url.slice(root.length).split('/')[0]}/`;
  if (url.startsWith('node:')) return 'node internals';
  return url;
}

const where = (frame: CallFrame) => {
  const path = frame.url.startsWith(root) ? frame.url.slice(root.length) : frame.url.replace(/.*node_modules\//, '');
  // tsx's transform keeps no line numbers for this repository's files: those are named by file only.
  const line = path && !frame.url.startsWith(root) ? `:${frame.lineNumber + 1}` : '';
  return `${frame.functionName || '(anonymous)'} ${path}${line}`;
};

const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
/** This repository's functions on a sample's stack, each once (recursion counted once). */
function ownOnStack(id: number): Set<string> {
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const frame = frames.get(at);
    if (frame?.url.startsWith(root) && !frame.url.includes('/node_modules/')) seen.add(where(frame));
  }
  return seen;
}

const inclusive = new Map<string, number>();
const byArea = new Map<string, number>();
const byFunction = new Map<string, number>();
let total = 0;
profile.samples.forEach((id, i) => {
  const dt = profile.timeDeltas[i] ?? 0;
  const frame = frames.get(id);
  if (!frame) return;
  total += dt;
  byArea.set(areaOf(frame), (byArea.get(areaOf(frame)) ?? 0) + dt);
  byFunction.set(where(frame), (byFunction.get(where(frame)) ?? 0) + dt);
  for (const f of ownOnStack(id)) inclusive.set(f, (inclusive.get(f) ?? 0) + dt);
});
const ms = (us: number) => `${(us / 1000).toFixed(0)} ms`;
const pct = (us: number) => `${((100 * us) / total).toFixed(1)} %`;
const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top);
console.log(`${file}: ${ms(total)} sampled`);
console.log('\n| area (self time) | ms | share |\n|---|---:|---:|');
for (const [k, v] of sorted(byArea)) console.log(`| ${k} | ${ms(v)} | ${pct(v)} |`);
console.log('\n| function (self time) | ms | share |\n|---|---:|---:|');
for (const [k, v] of sorted(byFunction)) console.log(`| \`${k}\` | ${ms(v)} | ${pct(v)} |`);
console.log("\n| this repository's function (inclusive time) | ms | share |\n|---|---:|---:|");
for (const [k, v] of sorted(inclusive)) console.log(`| \`${k}\` | ${ms(v)} | ${pct(v)} |`);
