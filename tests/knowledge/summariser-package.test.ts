// The optional LLM summariser's package (@langchain/openai, with openai) is not part of a default install: it is
// imported when `knowledge.llm` is configured, and its absence is one clear error naming the install command.
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from '../../adapters/clock';
import {
  loadLlmSummariser,
  openKnowledgeBase,
  SummariserUnavailableError,
  summariserInstallCommand,
} from '../../adapters/knowledge';
import { knowledgeConfigSchema } from '../../adapters/knowledge/config';
import { createMemoryLog } from '../../adapters/log';
import { openStore } from './helpers';

const ROOT = new URL('../../', import.meta.url);
const installed = existsSync(new URL('node_modules/@langchain/openai/package.json', ROOT));
const ollama = { kind: 'ollama' as const, baseUrl: 'http://127.0.0.1:11434/v1', model: 'llama3' };
/** Imports a name that is certainly not installed, as a missing package would be. */
const missing = (specifier: string) => import(`${specifier}-not-installed-here`);

describe('summariser package', () => {
  it('summariser - a default install does not depend on the summariser packages, nor on packages that pull them in', () => {
    const pkg = JSON.parse(readFileSync(new URL('package.json', ROOT), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    for (const name of ['@langchain/openai', 'openai', '@langchain/classic', '@langchain/community']) {
      expect(pkg.dependencies).not.toHaveProperty(name);
    }
    const lock = JSON.parse(readFileSync(new URL('package-lock.json', ROOT), 'utf8')) as {
      packages: Record<string, { dev?: boolean; optional?: boolean }>;
    };
    const installedByDefault = Object.entries(lock.packages).filter(([, p]) => !p.dev && !p.optional);
    expect(installedByDefault.map(([path]) => path)).not.toContain('node_modules/@langchain/openai');
    expect(installedByDefault.map(([path]) => path)).not.toContain('node_modules/openai');
  });

  it('summariser - without its package, loading fails with one error naming the npm install command', async () => {
    const error = await loadLlmSummariser(ollama, missing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SummariserUnavailableError);
    expect((error as Error).message).toBe(
      `knowledge.llm is configured but its package @langchain/openai is not installed: run '${summariserInstallCommand()}' in ${decodeURIComponent(ROOT.pathname)}, or remove knowledge.llm from the config`,
    );
  });

  it('summariser - the install command fits the Node it runs on', () => {
    expect(summariserInstallCommand('22.11.0')).toBe('npm install @langchain/openai');
    expect(summariserInstallCommand('20.20.2')).toBe('npm install @langchain/openai@1.5.8');
  });

  it.runIf(!installed)('summariser - a configured summariser without its package stops openKnowledgeBase', async () => {
    const clock = new SimulatedClock(0);
    await expect(
      openKnowledgeBase({
        config: knowledgeConfigSchema.parse({ llm: ollama }),
        repo: openStore().knowledge,
        clock,
        log: createMemoryLog(clock),
      }),
    ).rejects.toThrow(
      /knowledge\.llm is configured but its package @langchain\/openai is not installed: run 'npm install/,
    );
  });

  it('summariser - with its package, the chat model is made from the config and asked for a summary', async () => {
    const made: Record<string, unknown>[] = [];
    class ChatOpenAI {
      constructor(fields: Record<string, unknown>) {
        made.push(fields);
      }
      async invoke(input: [string, string][]) {
        return { content: ` Summary of: ${input[1]?.[1]} ` };
      }
    }
    const llm = await loadLlmSummariser(ollama, async () => ({ ChatOpenAI }));
    expect(made).toEqual([]);
    expect(await llm.summarise('VM 101 stopped')).toBe('Summary of: VM 101 stopped');
    expect(made).toEqual([
      expect.objectContaining({
        model: 'llama3',
        apiKey: 'ollama',
        configuration: { baseURL: 'http://127.0.0.1:11434/v1' },
        maxRetries: 0,
      }),
    ]);
  });
});
