// Issue 14's table, row by row: each benchmark reports the rows it measures with `reportTarget`, as one tagged
// line on stdout; `npm run bench` (bench/run.ts) collects them from every benchmark and prints the table at the end.

/** The rows of issue 14's table, in its order. */
export const TARGET_ROWS = {
  decisions: 'gated decisions/s via `POST /v1/requests`, 50 connections, vs bare Hono',
  decisionP99At1k: 'decision p99 at 1,000 requests/s, open loop',
  decisionP99DuringSync: 'decision p99 at 100 requests/s while a 10k-VM fleet syncs every 10 s',
  syncLoopDelay: 'event-loop delay p99 in the core during a 10k-VM sync',
  syncCpu: 'steady sync CPU of 100k VMs vs raw fetch + JSON.parse of the same answer',
  memory: 'memory with 100k VMs tracked',
  events: 'state-change events/s to NATS vs raw publish of the same subjects and sizes',
  restart: 'restart to serving with 10k VMs and 1k requests in flight vs a bare process start',
} as const;

export type TargetRow = keyof typeof TARGET_ROWS;

export interface TargetReport {
  row: TargetRow;
  /** What was measured, with its unit: `482 decisions/s`, `37 ms`. */
  value: string;
  /** The baseline of the same run, with its unit, or what the figure is compared with. */
  baseline: string;
  /** The figure the target is about: a ratio (`0.021×`) or an absolute value (`537 MiB`). */
  result: string;
  /** The target as the issue says it: `≥ 0.25×`, `≤ 10 ms`. */
  target: string;
  met: boolean;
  /** The command that produced it. */
  command: string;
}

export const TARGET_TAG = 'BENCH-TARGET';

/**
 * Prints one row for bench/run.ts to collect (and for a reader of the benchmark's own output), through `write` when
 * the benchmark has its own way to stdout.
 */
export function reportTarget(report: TargetReport, write: (line: string) => void = console.log): void {
  write(`${TARGET_TAG} ${JSON.stringify(report)}`);
}

/** The table of every collected row, in the order; a row no benchmark reported says so. */
export function targetTable(reports: TargetReport[]): string {
  const lines = [
    '| what | measured | baseline (same run) | result | target | met? | command |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const [row, what] of Object.entries(TARGET_ROWS)) {
    const hits = reports.filter((r) => r.row === row);
    if (hits.length === 0) lines.push(`| ${what} | not measured | | | | | |`);
    for (const r of hits) {
      lines.push(
        `| ${what} | ${r.value} | ${r.baseline} | ${r.result} | ${r.target} | ${r.met ? 'yes' : 'no'} | \`${r.command}\` |`,
      );
    }
  }
  return lines.join('\n');
}
