// Why the bus encodes with Buffer.from (adapters/nats/codec.ts, and nats.js's protocol lines through
// patches/@nats-io+nats-core+3.3.1.patch): on Node 20 TextEncoder.encode takes four to nine times as long as
// Buffer.from, and every event, request and reply makes two such calls (its protocol line and its payload). Measured in
// one run, for the strings the bus encodes: a PUB protocol line, a VM state event's JSON, a decision's reply.
// (Not in `npm run bench`; see bench/README.md, session 22.)
// Run: node --import tsx bench/text-encode.ts [calls per round = 300000] [rounds = 3]
const calls = Number(process.argv[2] ?? 300_000);
const rounds = Number(process.argv[3] ?? 3);
if (!(calls > 0) || !(rounds > 0)) throw new Error('usage: bench/text-encode.ts [calls] [rounds]');

const checks = Array.from({ length: 13 }, (_, i) => ({
  check: `check${i}`,
  outcome: i === 4 ? 'deny' : 'pass',
  reason: `VM 101 is tagged production: destroy needs force and an admin (${i})`,
}));
const strings: Record<string, string> = {
  'PUB protocol line': 'PUB overseer.evt.vm.lab.101.state _INBOX.9f8a7b6c5d4e3f2a1b0c.42 99\r\n',
  'VM state event (JSON)': JSON.stringify({ type: 'vm.state', vm: 'lab/101', from: 'running', to: 'stopped', at: 1 }),
  "a decision's reply (JSON)": JSON.stringify({
    requestId: '019312ab-0000-7000-8000-000000000000',
    decision: 'denied',
    reasons: ['VM 101 is production'],
    checks,
    status: 'denied',
    replayed: false,
  }),
};
const encoder = new TextEncoder();
const ways: Record<string, (s: string) => Uint8Array> = {
  'TextEncoder.encode (baseline)': (s) => encoder.encode(s),
  "Buffer.from(s, 'utf8')": (s) => Buffer.from(s, 'utf8'),
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
console.log(`Command: node --import tsx bench/text-encode.ts ${calls} ${rounds}`);
console.log(`Node ${process.version}; ${calls} calls per round, median of ${rounds}`);
console.log('\n| string | bytes | way | ns per call | vs baseline |\n|---|---:|---|---:|---:|');
let sink = 0;
for (const [what, text] of Object.entries(strings)) {
  const ns = new Map<string, number[]>();
  for (let round = 0; round < rounds; round++) {
    for (const [way, encode] of Object.entries(ways)) {
      for (let i = 0; i < 10_000; i++) sink += encode(text).length;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) sink += encode(text).length;
      ns.set(way, [...(ns.get(way) ?? []), Number(process.hrtime.bigint() - t0) / calls]);
    }
  }
  const baseline = median([...ns.values()][0] ?? []);
  for (const [way, xs] of ns) {
    const m = median(xs);
    console.log(`| ${what} | ${Buffer.byteLength(text)} | ${way} | ${m.toFixed(0)} | ${(m / baseline).toFixed(3)}× |`);
  }
}
if (sink < 0) console.log(sink);
