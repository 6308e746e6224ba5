// The PVE simulator with a generated fleet (bench/sim-server.ts) in a child process, so that what a benchmark
// measures in its own process is Overseer's work alone. Used by sync.ts and sync-latency.ts.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export interface SimProcess {
  proc: ChildProcess;
  port: number;
  tokenId: string;
  secret: string;
  /** Stops the simulator (its stdin closes) and waits for it to exit. */
  stop(): Promise<void>;
}

/**
 * Starts the simulator with `vms` VMs on `nodes` nodes (cluster `bench`), plain HTTP on 127.0.0.1; with `taskMs`
 * every task takes that long (real time).
 */
export async function startSimProcess(
  vms: number,
  nodes: number,
  secret: string,
  taskMs?: number,
): Promise<SimProcess> {
  const proc = spawn(
    process.execPath,
    [
      '--max-old-space-size=8192',
      '--import',
      'tsx',
      join(import.meta.dirname, 'sim-server.ts'),
      String(vms),
      String(nodes),
      secret,
      ...(taskMs === undefined ? [] : [String(taskMs)]),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const ready = await new Promise<{ port: number; tokenId: string }>((resolve, reject) => {
    const lines = createInterface({ input: proc.stdout! });
    lines.on('line', (line) => {
      if (line.startsWith('READY ')) resolve(JSON.parse(line.slice('READY '.length)));
    });
    proc.once('exit', (code) => reject(new Error(`sim-server exited with ${code}`)));
  });
  return {
    proc,
    ...ready,
    secret,
    stop: async () => {
      if (proc.exitCode !== null) return;
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.stdin?.end();
      await exited;
    },
  };
}
