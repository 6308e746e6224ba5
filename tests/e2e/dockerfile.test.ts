// deploy/Dockerfile against the sources: the image holds every folder the `overseer` command imports (followed from
// cli/main.ts through every relative import, static or dynamic), and npm ci there sees the patches its postinstall
// applies to node_modules.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const dockerfile = readFileSync(join(root, 'deploy/Dockerfile'), 'utf8');

/** Top-level folders of the repository reached from `entry` by relative imports. */
function foldersReached(entry: string): Set<string> {
  const seen = new Set<string>();
  const folders = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    folders.add(relative(root, file).split('/')[0]!);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
      const base = resolve(dirname(file), m[1]!);
      const found = [base, `${base}.ts`, join(base, 'index.ts')].find((f) => f.endsWith('.ts') && existsSync(f));
      if (found) queue.push(found);
    }
  }
  return folders;
}

describe('dockerfile', () => {
  it('dockerfile - the image copies every source folder the overseer command imports', () => {
    const copied = new Set([...dockerfile.matchAll(/^COPY (\S+) \.\/\1$/gm)].map((m) => m[1]));
    const needed = foldersReached(join(root, 'cli/main.ts'));
    expect(needed).toContain('protocol');
    for (const folder of needed) expect(copied, `COPY ${folder} ./${folder}`).toContain(folder);
  });

  it('dockerfile - npm ci runs with the patches its postinstall applies', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
    };
    expect(pkg.scripts.postinstall).toBe('patch-package');
    // `npm ci --omit=dev` in the image: the tool that applies them is a dependency, not a devDependency.
    expect(pkg.dependencies['patch-package']).toBeDefined();
    const copyPatches = dockerfile.indexOf('COPY patches ./patches');
    expect(copyPatches).toBeGreaterThan(-1);
    expect(copyPatches).toBeLessThan(dockerfile.indexOf('RUN npm ci'));
  });
});
