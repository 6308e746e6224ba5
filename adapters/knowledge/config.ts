// The `knowledge` section of the Overseer config file (mounted by actors/config.ts).
import { z } from 'zod';

const llmSchema = z.strictObject({
  kind: z.enum(['openai', 'ollama']),
  baseUrl: z.url(),
  model: z.string().min(1),
  apiKey: z.string().min(1).optional(),
  timeoutMs: z.number().int().positive().default(15_000),
});

export const knowledgeConfigSchema = z
  .strictObject({
    /** Extra runbook directories, read after the shipped runbooks (same id replaces a shipped runbook). */
    runbookDirs: z.array(z.string().min(1)).default([]),
    /** 0..1: how alike a past failure must be to a request to warn about it. */
    similarFailureThreshold: z.number().min(0).max(1).default(0.6),
    /** Most past failures quoted in one warning (all are counted). */
    maxWarnings: z.number().int().nonnegative().default(3),
    /** Optional incident summariser; absent: none. */
    llm: llmSchema.optional(),
  })
  .prefault({});

export type KnowledgeConfig = z.infer<typeof knowledgeConfigSchema>;
