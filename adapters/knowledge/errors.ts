// Typed errors of the knowledge base. Each has a `name` and keeps its `cause`.

/** Base of every knowledge-base failure. */
export class KnowledgeError extends Error {
  override name = 'KnowledgeError';
}

/** A runbook file cannot be used: unreadable, no front matter, or a front-matter key is missing or invalid. */
export class RunbookError extends KnowledgeError {
  override name = 'RunbookError';
  constructor(
    /** What is wrong, without the file and key (they are in the message too). */
    readonly problem: string,
    readonly file: string,
    /** The front-matter key at fault ('(file)' when the file as a whole is). */
    readonly key: string,
    options?: { cause?: unknown },
  ) {
    super(key === '(file)' ? `${file}: ${problem}` : `${file}: '${key}' ${problem}`, options);
  }
}

/** The optional LLM summariser failed (unreachable endpoint, timeout, bad answer). Always caught and logged. */
export class SummariserError extends KnowledgeError {
  override name = 'SummariserError';
}

/** The summariser is configured but its package is not installed: start-up stops, naming the install command. */
export class SummariserUnavailableError extends KnowledgeError {
  override name = 'SummariserUnavailableError';
}
