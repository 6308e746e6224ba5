// The real `overseer` binary (cli/bin.js) in a child process: a reader that goes away (`overseer status | head -2`)
// ends the command quietly, and `serve --help` is answered without starting anything.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXIT } from '../../cli/main';
import { subjects } from '../../protocol';
import type { CliHarness } from './setup';
import { startHarness } from './setup';

const BIN = join(import.meta.dirname, '../../cli/bin.js');

interface Run {
  exited: Promise<number | null>;
  stdout(): string;
  stderr(): string;
}

/** Runs `overseer <args>`; with `closeStdout`, the reading end of its stdout is closed at once (`| head -0`). */
function overseer(args: string[], env: Record<string, string>, opts: { closeStdout?: boolean } = {}): Run {
  const proc = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  if (opts.closeStdout) proc.stdout.destroy();
  else {
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
  }
  proc.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { exited, stdout: () => out, stderr: () => err };
}

async function until(cond: () => boolean, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

let h: CliHarness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.close());

describe('cli pipes', () => {
  const env = () => ({ OVERSEER_URL: h.gateway.url, OVERSEER_TOKEN: h.core.tokens.admin });

  it('cli pipes - a closed stdout ends a read quietly: no EPIPE stack trace, exit 0', async () => {
    const status = overseer(['status'], env(), { closeStdout: true });
    expect(await status.exited).toBe(EXIT.ok);
    expect(status.stderr()).toBe('');
  }, 30_000);

  it('cli pipes - events stops following when its reader goes away', async () => {
    const events = overseer(['events'], env(), { closeStdout: true });
    await until(() => events.stderr().includes('following'));
    // The first event written finds no reader: the command ends, quietly.
    for (let i = 0; i < 3; i++) h.bus.publish(subjects.evtLoop('sync', 'synced'), { i });
    expect(await events.exited).toBe(EXIT.ok);
    expect(events.stderr()).toBe('following overseer.evt.>\n');
  }, 30_000);

  it('cli pipes - serve --help prints its usage and starts nothing; a bad serve option is a usage error', async () => {
    const help = overseer(['serve', '--help'], {});
    expect(await help.exited).toBe(EXIT.ok);
    expect(help.stdout()).toMatch(/^Usage: overseer serve \[--role all\|core\|gateway\]\n/);
    expect(help.stderr()).toBe('');
    const bad = overseer(['serve', '--rol', 'core'], {});
    expect(await bad.exited).toBe(EXIT.usage);
    expect(bad.stderr()).toMatch(/^overseer: unknown option '--rol' for 'serve' \(did you mean --role\?\)\n/);
  }, 30_000);
});
