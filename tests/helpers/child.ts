// Runs a TypeScript file as a real child process (node + tsx) and reads its tagged stdout lines.
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface Child {
  proc: ChildProcess;
  /** Resolves with the JSON after the first stdout line `TAG {...}`. */
  line<T>(tag: string, timeoutMs?: number): Promise<T>;
  exited: Promise<number | null>;
  stderr(): string;
  /** Every stdout line so far. */
  stdout(): readonly string[];
}

export function runTs(file: string, args: string[], env: Record<string, string> = {}): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', file, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-20_000);
  });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  createInterface({ input: proc.stdout! }).on('line', (l) => {
    lines.push(l);
    for (const w of waiters.splice(0)) w();
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return {
    proc,
    exited,
    stderr: () => err,
    stdout: () => lines,
    line<T>(tag: string, timeoutMs = 60_000): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${tag} line within ${timeoutMs} ms; stderr:\n${err}`)),
          timeoutMs,
        );
        const check = () => {
          const hit = lines.find((l) => l.startsWith(`${tag} `));
          if (hit) {
            clearTimeout(timer);
            resolve(JSON.parse(hit.slice(tag.length + 1)) as T);
            return true;
          }
          return false;
        };
        if (check()) return;
        const wait = () => {
          if (!check()) waiters.push(wait);
        };
        waiters.push(wait);
        void exited.then(() => {
          if (!check()) {
            clearTimeout(timer);
            reject(new Error(`exited before ${tag}; stderr:\n${err}`));
          }
        });
      });
    },
  };
}
