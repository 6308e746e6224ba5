// Optional: a chat model that writes a one-paragraph summary of an incident for its knowledge document.
// OpenAI, or Ollama through its OpenAI-compatible endpoint (`http://host:11434/v1`). Nothing depends on it:
// the knowledge base logs and ignores every failure, and retrieval never needs it.
//
// Its package, @langchain/openai (with openai, ≈ 40 MB), is not among Overseer's dependencies: a default install
// does without it. It is imported when `knowledge.llm` is configured; when it is missing, start-up stops with one
// error naming the `npm install` command (loadLlmSummariser).
import { fileURLToPath } from 'node:url';
import { SummariserError, SummariserUnavailableError } from './errors';

export interface LlmConfig {
  kind: 'openai' | 'ollama';
  /** OpenAI-compatible base URL, e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`. */
  baseUrl: string;
  model: string;
  /** Required by OpenAI; Ollama ignores it. */
  apiKey?: string | undefined;
  /** Per-call timeout. Default 15 s. */
  timeoutMs?: number | undefined;
}

export interface Summariser {
  /** One paragraph summarising `text`. Rejects with SummariserError. */
  summarise(text: string, signal?: AbortSignal): Promise<string>;
}

/** The package the summariser needs, installed only by those who configure it. */
export const SUMMARISER_PACKAGE = '@langchain/openai';
/** The last @langchain/openai that runs on Node 20 (later ones need Node 22) and fits @langchain/core 1.x. */
export const SUMMARISER_PACKAGE_NODE20 = '1.5.8';

/** The install command for this Node: `npm install @langchain/openai` (Node 22+), pinned to 1.5.8 on Node 20/21. */
export function summariserInstallCommand(nodeVersion: string = process.versions.node): string {
  const major = Number(nodeVersion.split('.')[0]);
  return major >= 22
    ? `npm install ${SUMMARISER_PACKAGE}`
    : `npm install ${SUMMARISER_PACKAGE}@${SUMMARISER_PACKAGE_NODE20}`;
}

/** Where Overseer is installed (the folder of its package.json): where the install command is run. */
const INSTALL_DIR = fileURLToPath(new URL('../../', import.meta.url));

interface ChatModel {
  invoke(input: [string, string][], options?: { signal?: AbortSignal }): Promise<unknown>;
}
type ChatOpenAIClass = new (fields: Record<string, unknown>) => ChatModel;
/** Imports a module by name (tests pass their own). */
export type ModuleImporter = (specifier: string) => Promise<unknown>;

// A variable specifier: the type checker does not look for a package that is normally absent.
const importModule: ModuleImporter = (specifier) => import(specifier);

const isMissingModule = (err: unknown): boolean => {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
};

/**
 * The summariser for `config`, with its package imported now. Rejects with SummariserUnavailableError, naming the
 * install command, when the package is not installed (or is not the package it should be).
 */
export async function loadLlmSummariser(
  config: LlmConfig,
  importer: ModuleImporter = importModule,
): Promise<Summariser> {
  let loaded: unknown;
  try {
    loaded = await importer(SUMMARISER_PACKAGE);
  } catch (cause) {
    const why = isMissingModule(cause)
      ? 'is not installed'
      : `cannot be loaded (${(cause as Error)?.message ?? String(cause)})`;
    throw new SummariserUnavailableError(
      `knowledge.llm is configured but its package ${SUMMARISER_PACKAGE} ${why}: run '${summariserInstallCommand()}' in ${INSTALL_DIR}, or remove knowledge.llm from the config`,
      { cause },
    );
  }
  const ChatOpenAI = (loaded as { ChatOpenAI?: unknown }).ChatOpenAI;
  if (typeof ChatOpenAI !== 'function') {
    throw new SummariserUnavailableError(
      `knowledge.llm is configured but ${SUMMARISER_PACKAGE} has no ChatOpenAI: run '${summariserInstallCommand()}' in ${INSTALL_DIR}`,
    );
  }
  return createLlmSummariser(config, ChatOpenAI as ChatOpenAIClass);
}

const PROMPT =
  'You summarise incidents of a Proxmox VE virtual machine fleet for an operations knowledge base. ' +
  'Write one short paragraph (at most 80 words): what happened, the likely cause, what was done, how it ended. ' +
  'Use only the facts given.';

/** A Summariser over a ChatOpenAI class (from loadLlmSummariser). The client is created on first use. */
export function createLlmSummariser(config: LlmConfig, ChatOpenAI: ChatOpenAIClass): Summariser {
  const timeout = config.timeoutMs ?? 15_000;
  let model: ChatModel | undefined;
  const getModel = () => {
    model ??= new ChatOpenAI({
      model: config.model,
      // Ollama wants no key, but the client insists on one.
      apiKey: config.apiKey ?? (config.kind === 'ollama' ? 'ollama' : ''),
      configuration: { baseURL: config.baseUrl },
      temperature: 0,
      timeout,
      maxRetries: 0,
    });
    return model;
  };
  return {
    async summarise(text, signal) {
      const label = `${config.kind} summariser (${config.model} at ${config.baseUrl})`;
      try {
        const chat = getModel();
        const timeoutSignal = AbortSignal.timeout(timeout);
        const answer = await chat.invoke(
          [
            ['system', PROMPT],
            ['human', text],
          ],
          { signal: signal ? AbortSignal.any([signal, timeoutSignal]) : timeoutSignal },
        );
        const content = (answer as { content?: unknown }).content;
        const summary = typeof content === 'string' ? content.trim() : '';
        if (!summary) throw new Error('empty answer');
        return summary;
      } catch (cause) {
        throw new SummariserError(`${label} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
      }
    },
  };
}
