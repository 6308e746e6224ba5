// Runs every scenario folder and diffs its log against expected.log. UPDATE_SCENARIOS=1 rewrites expected.log
// (read the diff before committing it: the expected log is the specification).
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from './runner';

const root = import.meta.dirname;
const scenarios = readdirSync(root, { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'commands')))
  .map((d) => d.name);

describe('scenarios', () => {
  for (const name of scenarios) {
    it(`scenario - ${name}`, async () => {
      const dir = join(root, name);
      const run = await runScenario(dir);
      try {
        const expectedFile = join(dir, 'expected.log');
        if (process.env.UPDATE_SCENARIOS === '1') writeFileSync(expectedFile, run.log);
        if (!existsSync(expectedFile)) throw new Error(`${name} has no expected.log (UPDATE_SCENARIOS=1 writes one)`);
        expect(run.log).toBe(readFileSync(expectedFile, 'utf8'));
      } finally {
        await run.cleanup();
      }
    }, 60_000);
  }
});
