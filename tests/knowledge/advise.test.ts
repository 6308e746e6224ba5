import { existsSync } from 'node:fs';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import {
  KNOWLEDGE_CHECK,
  loadLlmSummariser,
  loadRunbooks,
  openKnowledgeBase,
  type Summariser,
} from '../../adapters/knowledge';
import { knowledgeConfigSchema } from '../../adapters/knowledge/config';
import { createMemoryLog } from '../../adapters/log';
import { openKb, openStore, requestSpec, runbookDir, runbookText, tempDir, vmInfo } from './helpers';

const LOCK_ERROR = "can't lock file '/var/lock/qemu-server/lock-9000.conf' - got timeout";

const deploy = (id: string, params: Record<string, unknown>) =>
  requestSpec({ id, action: 'deploy', target: { cluster: 'lab' }, params, requester: { id: 'bob', role: 'admin' } });

const approvalRunbook = runbookText([
  'id: production-destroy-approval',
  'title: Production VMs are destroyed only with approval',
  'actions: [destroy]',
  'rule: approval',
  'when: tags: production',
]);

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('knowledge check', () => {
  it('knowledge check - a recorded failed request makes a similar request carry a warning', async () => {
    const { kb, clock } = await openKb();
    await kb.recordFailedRequest({
      requestId: 'abc',
      action: 'deploy',
      target: { cluster: 'lab' },
      params: { template: 9000, node: 'pve2', name: 'web3' },
      error: LOCK_ERROR,
    });
    clock.advance(60_000);
    await kb.recordFailedRequest({
      requestId: 'def',
      action: 'deploy',
      target: { cluster: 'lab' },
      params: { template: 9000, node: 'pve2', name: 'web4' },
      error: LOCK_ERROR,
    });
    const result = await kb.adviseRequest(deploy('new', { template: 9000, node: 'pve2', name: 'web5' }));
    expect(result.check).toBe(KNOWLEDGE_CHECK);
    expect(result.outcome).toBe('pass');
    expect(result.reason).toBe(
      'no runbook rule blocks clone of 9000 on pve2; warning: 2 similar past failures: ' +
        `clone of 9000 on pve2 failed: ${LOCK_ERROR} (req def); clone of 9000 on pve2 failed: ${LOCK_ERROR} (req abc)`,
    );
    // the same answer every time
    expect(await kb.adviseRequest(deploy('new', { template: 9000, node: 'pve2', name: 'web5' }))).toEqual(result);
  });

  it('knowledge check - unrelated requests carry no warning', async () => {
    const { kb } = await openKb();
    await kb.recordFailedRequest({
      requestId: 'abc',
      action: 'deploy',
      target: { cluster: 'lab' },
      params: { template: 9000, node: 'pve2', name: 'web3' },
      error: LOCK_ERROR,
    });
    for (const spec of [
      deploy('n1', { template: 9100, node: 'pve3', name: 'db1' }),
      requestSpec({ id: 'n2', action: 'stop', target: { cluster: 'lab', vmid: 9000 } }),
    ]) {
      const result = await kb.adviseRequest(spec);
      expect(result.outcome).toBe('pass');
      expect(result.reason).toMatch(/^no runbook rule or similar past failure for /);
    }
  });

  it('knowledge check - at most maxWarnings failures are quoted, all are counted', async () => {
    const { kb, clock } = await openKb({ maxWarnings: 1 });
    for (const id of ['r1', 'r2', 'r3']) {
      await kb.recordFailedRequest({
        requestId: id,
        action: 'stop',
        target: { cluster: 'lab', vmid: 101 },
        error: 'timeout',
      });
      clock.advance(1_000);
    }
    const result = await kb.adviseRequest(requestSpec({ action: 'stop' }), vmInfo());
    expect(result.reason).toBe(
      'no runbook rule blocks stop of lab/101 on pve1; warning: 3 similar past failures: ' +
        'stop of lab/101 failed: timeout (req r3); and 2 more',
    );
  });

  it('knowledge check - an unresolved incident whose remediation used the action warns about that VM', async () => {
    const { kb } = await openKb();
    await kb.recordIncident({
      id: 'inc-7',
      kind: 'crash-loop',
      subject: 'vm:lab/101',
      cause: 'kernel panic on boot',
      actions: ['start', 'start', 'notify'],
      outcome: 'remediation failed, escalated',
    });
    await kb.recordIncident({
      id: 'inc-8',
      kind: 'unexpected-stop',
      subject: 'vm:lab/101',
      actions: ['start'],
      outcome: 'resolved',
    });
    const start = await kb.adviseRequest(requestSpec({ action: 'start' }), vmInfo({ status: 'stopped' }));
    expect(start.outcome).toBe('pass');
    expect(start.reason).toContain(
      'warning: 1 similar past failure: crash-loop on vm:lab/101: kernel panic on boot -> remediation failed, escalated (incident inc-7)',
    );
    const other = await kb.adviseRequest(requestSpec({ action: 'start', target: { cluster: 'lab', vmid: 102 } }));
    expect(other.reason).not.toContain('warning');
  });

  it('knowledge check - a rule: approval runbook sends destroy of a production VM for approval', async () => {
    const dir = runbookDir({ 'approval.md': approvalRunbook });
    const { kb } = await openKb({ runbooks: false });
    await kb.syncRunbooks(loadRunbooks([dir]).runbooks);
    const destroy = requestSpec({ action: 'destroy', force: true, requester: { id: 'root', role: 'admin' } });
    const production = vmInfo({ tags: ['production', 'web'] });
    const result = await kb.adviseRequest(destroy, production);
    expect(result).toEqual({
      check: 'knowledge',
      outcome: 'approval',
      reason:
        'runbook production-destroy-approval (Production VMs are destroyed only with approval) requires approval for ' +
        'destroy of lab/101 on pve1 (when tags: production); warning: runbook destroy-production ' +
        '(Destroying a production VM — checklist) applies (when tags: production)',
    });
    expect((await kb.adviseRequest(destroy, vmInfo({ tags: ['web'] }))).outcome).toBe('pass');
    expect((await kb.adviseRequest(requestSpec({ action: 'stop' }), production)).outcome).toBe('pass');
    // a VM fact is unknown without the VM: the rule does not match
    expect((await kb.adviseRequest(destroy)).outcome).toBe('pass');
  });

  it('knowledge check - the shipped vm-locked runbook warns about a VM locked by a backup (the request waits for it)', async () => {
    const { kb } = await openKb();
    const stop = requestSpec({ action: 'stop' });
    const result = await kb.adviseRequest(stop, vmInfo({ lock: 'backup' }));
    expect(result.outcome).toBe('pass');
    expect(result.reason).toContain('runbook vm-locked (VM locked by backup, clone, migration or snapshot)');
    expect((await kb.adviseRequest(stop, vmInfo({ lock: 'migrate' }))).outcome).toBe('pass');
    expect((await kb.adviseRequest(stop, vmInfo())).outcome).toBe('pass');
  });

  it('knowledge check - deny beats approval, and rules survive a restart without a sync', async () => {
    const store = openStore();
    const dir = runbookDir({
      'approval.md': approvalRunbook,
      'deny.md': runbookText([
        'id: never-destroy-db',
        'title: Database VMs are never destroyed by Overseer',
        'rule: deny',
        'when: action: destroy, name: db*',
      ]),
    });
    const { kb } = await openKb({ store, runbooks: false });
    await kb.syncRunbooks(loadRunbooks([dir], { includeShipped: false }).runbooks);
    const destroy = requestSpec({ action: 'destroy', force: true });
    const vm = vmInfo({ name: 'db1', tags: ['production'] });
    const result = await kb.adviseRequest(destroy, vm);
    expect(result.outcome).toBe('deny');
    expect(result.reason).toMatch(/^runbook never-destroy-db \(Database VMs are never destroyed by Overseer\) denies/);

    const { kb: restarted } = await openKb({ store, runbooks: false });
    expect(await restarted.adviseRequest(destroy, vm)).toEqual(result);
    expect((await restarted.runbooks()).map((r) => r.id)).toEqual(['never-destroy-db', 'production-destroy-approval']);
  });
});

describe('summariser', () => {
  it('summariser - a summary is added to incident documents', async () => {
    const llm: Summariser = { summarise: async (text) => `Summary of ${text.split('\n')[0]}` };
    const { kb } = await openKb({ llm, runbooks: false });
    const doc = await kb.recordIncident({
      id: 'i1',
      kind: 'unexpected-stop',
      subject: 'vm:lab/101',
      outcome: 'resolved',
    });
    expect(doc.metadata.summary).toBe('Summary of unexpected-stop on vm:lab/101');
    expect(doc.body).toContain('Summary: Summary of unexpected-stop on vm:lab/101');
  });

  // The summariser's package is installed only by those who configure it (see summariser-package.test.ts).
  const summariserInstalled = existsSync(new URL('../../node_modules/@langchain/openai/package.json', import.meta.url));
  it.runIf(summariserInstalled)('summariser - an unreachable LLM endpoint is logged and ignored', async () => {
    const port = await closedPort();
    const llm = await loadLlmSummariser({
      kind: 'ollama',
      baseUrl: `http://127.0.0.1:${port}/v1`,
      model: 'llama3',
      timeoutMs: 2_000,
    });
    const { kb, log, store } = await openKb({ llm, runbooks: false });
    const doc = await kb.recordIncident({
      id: 'i2',
      kind: 'node-offline',
      subject: 'host:lab/pve2',
      cause: 'no route to host',
      outcome: 'escalated',
    });
    expect(doc.metadata.summary).toBeUndefined();
    expect(store.knowledge.get('incident:i2')).toEqual(doc);
    expect(
      log.lines.some((l) => /warn: knowledge: no summary for incident i2: ollama summariser .* failed/.test(l)),
    ).toBe(true);
  });
});

describe('knowledge config', () => {
  it('knowledge config - defaults, strict keys, llm section', () => {
    expect(knowledgeConfigSchema.parse(undefined)).toEqual({
      runbookDirs: [],
      similarFailureThreshold: 0.6,
      maxWarnings: 3,
    });
    expect(knowledgeConfigSchema.safeParse({ runbookDir: [] }).success).toBe(false);
    expect(knowledgeConfigSchema.safeParse({ similarFailureThreshold: 2 }).success).toBe(false);
    expect(
      knowledgeConfigSchema.parse({ llm: { kind: 'ollama', baseUrl: 'http://127.0.0.1:11434/v1', model: 'llama3' } })
        .llm,
    ).toEqual({ kind: 'ollama', baseUrl: 'http://127.0.0.1:11434/v1', model: 'llama3', timeoutMs: 15_000 });
    expect(knowledgeConfigSchema.safeParse({ llm: { kind: 'gpt', baseUrl: 'x', model: 'm' } }).success).toBe(false);
  });

  it('knowledge config - openKnowledgeBase syncs shipped, configured and data-dir runbooks, logging bad files', async () => {
    const store = openStore();
    const clock = new SimulatedClock(0);
    const log = createMemoryLog(clock);
    const extra = runbookDir({ 'approval.md': approvalRunbook });
    const dataDir = tempDir();
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(`${dataDir}/runbooks`);
    writeFileSync(`${dataDir}/runbooks/broken.md`, runbookText(['id: Broken!', 'title: x']));
    const kb = await openKnowledgeBase({
      config: knowledgeConfigSchema.parse({ runbookDirs: [extra] }),
      repo: store.knowledge,
      clock,
      log,
      dataDir,
    });
    expect((await kb.runbooks()).map((r) => r.id)).toContain('production-destroy-approval');
    expect(store.knowledge.count({ source: 'runbook' })).toBe(13);
    expect(log.lines.some((l) => l.includes('runbook skipped') && l.includes("broken.md: 'id' must be"))).toBe(true);
  });
});
