// patches/, applied by `npm ci` (postinstall: patch-package). V8 allocates a function literal assigned straight to a
// property in its old space, where it keeps its young context alive past the young generation's collections until a
// full GC (bench/README.md, session 8). XState's microstep made one on every transition of every actor
// (`actorScope.actionExecutor`), zod on every parse through a refinement or a transform (`payload.addIssue`); the
// patches bind each to a name before assigning it, which V8 allocates young like any closure.
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const packageDir = (name: string) => dirname(require.resolve(`${name}/package.json`));

describe('dependency patches', () => {
  it("dependency patches - every build of XState's microstep names its collecting executor before assigning it", () => {
    const dist = join(packageDir('xstate'), 'dist');
    const builds = readdirSync(dist).filter((f) => /^raise-.*\.js$/.test(f));
    expect(builds.length).toBeGreaterThanOrEqual(4);
    for (const file of builds) {
      const source = readFileSync(join(dist, file), 'utf8');
      expect(source, file).not.toMatch(/actorScope\.actionExecutor = action => \{\s*actions\.push\(action\)/);
      expect(source, file).toContain('actorScope.actionExecutor = collectingExecutor;');
    }
  });

  it("dependency patches - zod's refinements and transforms name their addIssue before assigning it", () => {
    const zod = packageDir('zod');
    for (const file of ['v4/core/api.js', 'v4/core/api.cjs', 'v4/classic/schemas.js', 'v4/classic/schemas.cjs']) {
      const source = readFileSync(join(zod, file), 'utf8');
      expect(source, file).not.toMatch(/payload\.addIssue = \(issue\) =>/);
      expect(source, file).toContain('payload.addIssue = addIssue;');
    }
  });
});
