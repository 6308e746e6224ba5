// Where host key fingerprints are remembered, per target id. Keys are pinned: a recorded key is only
// replaced by an operator (delete, or editing the file), never by a connection.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { KnownHostsError } from './errors';
import { normalizeFingerprint } from './fingerprint';

type MaybePromise<T> = T | Promise<T>;

export interface KnownHostsStore {
  /** Trust on first use: record the key of a host seen for the first time. Default false (refuse it). */
  readonly tofu?: boolean;
  /** The recorded fingerprint of target `id`, if any. */
  get(id: string): MaybePromise<string | undefined>;
  /** Records the fingerprint of target `id`. */
  set(id: string, fingerprint: string): MaybePromise<void>;
}

export interface MemoryKnownHostsOptions {
  tofu?: boolean;
  entries?: Record<string, string>;
}

export interface MemoryKnownHosts extends KnownHostsStore {
  delete(id: string): void;
  entries(): Record<string, string>;
}

function checkFingerprint(fingerprint: string, where: string): string {
  const fp = normalizeFingerprint(fingerprint);
  if (!fp) throw new KnownHostsError(`invalid fingerprint '${fingerprint}': expected SHA256:<base64>`, where);
  return fp;
}

/** An in-memory store (tests, or a caller that persists the entries itself). */
export function createMemoryKnownHosts(opts: MemoryKnownHostsOptions = {}): MemoryKnownHosts {
  const map = new Map<string, string>();
  for (const [id, fp] of Object.entries(opts.entries ?? {})) map.set(id, checkFingerprint(fp, '(memory)'));
  return {
    tofu: opts.tofu ?? false,
    get: (id) => map.get(id),
    set: (id, fingerprint) => {
      map.set(id, checkFingerprint(fingerprint, '(memory)'));
    },
    delete: (id) => {
      map.delete(id);
    },
    entries: () => Object.fromEntries(map),
  };
}

export interface FileKnownHostsOptions {
  /** The JSON file: `{"version": 1, "hosts": {"<id>": "SHA256:..."}}`. Missing means empty. */
  path: string;
  tofu?: boolean;
}

export interface FileKnownHosts extends KnownHostsStore {
  get(id: string): Promise<string | undefined>;
  set(id: string, fingerprint: string): Promise<void>;
  delete(id: string): Promise<void>;
  entries(): Promise<Record<string, string>>;
}

interface KnownHostsFile {
  version: 1;
  hosts: Record<string, string>;
}

function parseFile(text: string, path: string): Map<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new KnownHostsError(`known hosts file ${path} is not valid JSON`, path, { cause });
  }
  const file = parsed as Partial<KnownHostsFile> | null;
  if (!file || typeof file !== 'object' || file.version !== 1 || !file.hosts || typeof file.hosts !== 'object') {
    throw new KnownHostsError(`known hosts file ${path}: expected {"version": 1, "hosts": {...}}`, path);
  }
  const map = new Map<string, string>();
  for (const [id, fp] of Object.entries(file.hosts)) {
    if (typeof fp !== 'string')
      throw new KnownHostsError(`known hosts file ${path}: entry '${id}' is not a string`, path);
    map.set(id, checkFingerprint(fp, path));
  }
  return map;
}

/**
 * A store backed by one JSON file. Read once (lazily); every change rewrites the file atomically
 * (temp file, mode 0600, then rename), one write at a time. A corrupt file is an error, never "empty".
 */
export function createFileKnownHosts(opts: FileKnownHostsOptions): FileKnownHosts {
  const { path } = opts;
  let loaded: Promise<Map<string, string>> | undefined;
  let writes: Promise<void> = Promise.resolve();

  const load = (): Promise<Map<string, string>> => {
    loaded ??= readFile(path, 'utf8').then(
      (text) => parseFile(text, path),
      (cause: NodeJS.ErrnoException) => {
        if (cause.code === 'ENOENT') return new Map<string, string>();
        throw new KnownHostsError(`cannot read known hosts file ${path}: ${cause.message}`, path, { cause });
      },
    );
    // A failed read is retried on the next call rather than remembered.
    loaded.catch(() => {
      loaded = undefined;
    });
    return loaded;
  };

  const persist = async (map: Map<string, string>): Promise<void> => {
    const body: KnownHostsFile = {
      version: 1,
      hosts: Object.fromEntries([...map].sort(([a], [b]) => (a < b ? -1 : 1))),
    };
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(tmp, `${JSON.stringify(body, null, 2)}\n`, { mode: 0o600, flush: true });
      await rename(tmp, path);
    } catch (cause) {
      await rm(tmp, { force: true }).catch(() => {});
      throw new KnownHostsError(`cannot write known hosts file ${path}: ${(cause as Error).message}`, path, { cause });
    }
  };

  /** Runs one change after the previous ones; the map is only changed once the file is written. */
  const change = (apply: (next: Map<string, string>) => void): Promise<void> => {
    const run = writes.then(async () => {
      const current = await load();
      const next = new Map(current);
      apply(next);
      await persist(next);
      current.clear();
      for (const [k, v] of next) current.set(k, v);
    });
    writes = run.catch(() => {});
    return run;
  };

  return {
    tofu: opts.tofu ?? false,
    get: async (id) => (await load()).get(id),
    set: (id, fingerprint) => {
      const fp = checkFingerprint(fingerprint, path);
      return change((m) => m.set(id, fp));
    },
    delete: (id) => change((m) => m.delete(id)),
    entries: async () => Object.fromEntries(await load()),
  };
}
