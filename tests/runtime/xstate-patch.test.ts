// patches/xstate+5.33.3.patch, applied by `npm ci` (postinstall: patch-package): XState's microstep must not assign a
// function literal straight to `actorScope.actionExecutor`. V8 allocates such a literal in its old space, and this one,
// made on every transition of every actor, kept its young context (the microstep's actions) alive past the young
// generation's collections until a full GC (bench/README.md, session 8: promoted per scavenge, decision p99).
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dist = dirname(createRequire(import.meta.url).resolve('xstate'));

describe('xstate patch', () => {
  it('xstate patch - every build of the microstep names its collecting executor before assigning it', () => {
    const builds = readdirSync(dist).filter((f) => /^raise-.*\.js$/.test(f));
    expect(builds.length).toBeGreaterThanOrEqual(4);
    for (const file of builds) {
      const source = readFileSync(join(dist, file), 'utf8');
      expect(source, file).not.toMatch(/actorScope\.actionExecutor = action => \{\s*actions\.push\(action\)/);
      expect(source, file).toContain('actorScope.actionExecutor = collectingExecutor;');
    }
  });
});
