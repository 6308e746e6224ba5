// Optional: a chat model that writes a one-paragraph summary of an incident for its knowledge document.
// OpenAI, or Ollama through its OpenAI-compatible endpoint (`http://host:11434/v1`). Nothing depends on it:
// the knowledge base logs and ignores every failure, and retrieval never needs it.
import { SummariserError } from './errors';

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

const PROMPT =
  'You summarise incidents of a Proxmox VE virtual machine fleet for an operations knowledge base. ' +
  'Write one short paragraph (at most 80 words): what happened, the likely cause, what was done, how it ended. ' +
  'Use only the facts given.';

/** A Summariser over ChatOpenAI. The client is created on first use (so an unused config costs nothing). */
export function createLlmSummariser(config: LlmConfig): Summariser {
  const timeout = config.timeoutMs ?? 15_000;
  let model: Promise<{ invoke: (input: [string, string][], options?: { signal?: AbortSignal }) => Promise<unknown> }>;
  const getModel = () => {
    model ??= import('@langchain/openai').then(
      ({ ChatOpenAI }) =>
        new ChatOpenAI({
          model: config.model,
          // Ollama wants no key, but the client insists on one.
          apiKey: config.apiKey ?? (config.kind === 'ollama' ? 'ollama' : ''),
          configuration: { baseURL: config.baseUrl },
          temperature: 0,
          timeout,
          maxRetries: 0,
        }),
    );
    return model;
  };
  return {
    async summarise(text, signal) {
      const label = `${config.kind} summariser (${config.model} at ${config.baseUrl})`;
      try {
        const chat = await getModel();
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
