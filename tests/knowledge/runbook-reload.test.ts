// A runbook added to, changed in or removed from `$OVERSEER_DATA_DIR/runbooks` while Overseer runs is picked up
// without a restart: the directories are looked at every few seconds on the (here simulated) clock.
import { mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import { openKnowledgeBase, runbookDirs, watchRunbooks } from '../../adapters/knowledge';
import { knowledgeConfigSchema } from '../../adapters/knowledge/config';
import { createMemoryLog } from '../../adapters/log';
import { openStore, requestSpec, runbookText, tempDir, vmInfo } from './helpers';

const neverDestroyDb = (rule: 'deny' | 'approval') =>
  runbookText([
    'id: never-destroy-db',
    'title: Database VMs are not destroyed',
    'actions: [destroy]',
    `rule: ${rule}`,
    'when: name: db*',
  ]);

describe('runbook reload', () => {
  it('runbook reload - a runbook added, changed or removed in the data dir applies within one interval, no restart', async () => {
    const clock = new SimulatedClock(Date.UTC(2026, 0, 1));
    const log = createMemoryLog(clock);
    const dataDir = tempDir();
    const config = knowledgeConfigSchema.parse({});
    const kb = await openKnowledgeBase({ config, repo: openStore().knowledge, clock, log, dataDir });
    const watch = watchRunbooks({ knowledge: kb, dirs: runbookDirs(config, dataDir), clock, log, intervalMs: 5_000 });
    const destroy = requestSpec({ action: 'destroy', force: true, requester: { id: 'root', role: 'admin' } });
    const db = vmInfo({ name: 'db1' });
    expect((await kb.adviseRequest(destroy, db)).outcome).toBe('pass');

    // The folder does not exist at start: created later, it is picked up too.
    const dir = path.join(dataDir, 'runbooks');
    mkdirSync(dir);
    const file = path.join(dir, 'db.md');
    writeFileSync(file, neverDestroyDb('deny'));
    await clock.advanceAsync(4_999);
    expect((await kb.adviseRequest(destroy, db)).outcome).toBe('pass');
    await clock.advanceAsync(1);
    expect((await kb.runbooks()).map((r) => r.id)).toContain('never-destroy-db');
    expect((await kb.adviseRequest(destroy, db)).outcome).toBe('deny');
    expect(log.lines.some((l) => l.endsWith('info: knowledge: runbook files changed: never-destroy-db added'))).toBe(
      true,
    );

    writeFileSync(file, neverDestroyDb('approval'));
    utimesSync(file, new Date(), new Date(Date.now() + 10_000));
    await clock.advanceAsync(5_000);
    expect((await kb.adviseRequest(destroy, db)).outcome).toBe('approval');

    // A bad file is named once, not at every look.
    writeFileSync(path.join(dir, 'broken.md'), runbookText(['id: Broken!', 'title: x']));
    await clock.advanceAsync(15_000);
    expect(log.lines.filter((l) => l.includes('runbook skipped') && l.includes('broken.md'))).toHaveLength(1);

    rmSync(file);
    await clock.advanceAsync(5_000);
    expect((await kb.runbooks()).map((r) => r.id)).not.toContain('never-destroy-db');
    expect((await kb.adviseRequest(destroy, db)).outcome).toBe('pass');

    watch.stop();
    expect(clock.pending).toBe(0);
  });

  it('runbook reload - nothing changed: nothing is synced or logged', async () => {
    const clock = new SimulatedClock(0);
    const log = createMemoryLog(clock);
    const dataDir = tempDir();
    mkdirSync(path.join(dataDir, 'runbooks'));
    writeFileSync(path.join(dataDir, 'runbooks', 'db.md'), neverDestroyDb('deny'));
    const config = knowledgeConfigSchema.parse({});
    const kb = await openKnowledgeBase({ config, repo: openStore().knowledge, clock, log, dataDir });
    const lines = log.lines.length;
    const watch = watchRunbooks({ knowledge: kb, dirs: runbookDirs(config, dataDir), clock, log });
    await clock.advanceAsync(60_000);
    expect(await watch.check()).toBeUndefined();
    expect(log.lines.slice(lines)).toEqual([]);
    watch.stop();
  });
});
