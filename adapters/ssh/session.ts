// One SSH session: connect with the host key pinned, authenticate with the target's key, run commands.
// The caller's AbortSignal (a deadline on the injected clock) aborts the connection at any point.
import type { Client, ClientChannel } from 'ssh2';
import { raceAbort } from '../abort';
import type { Log } from '../log';
import {
  SshAuthError,
  SshConnectError,
  type SshError,
  SshHostKeyMismatchError,
  SshTargetError,
  SshUnknownHostKeyError,
} from './errors';
import { fingerprintOf, normalizeFingerprint } from './fingerprint';
import type { KnownHostsStore } from './known-hosts';
import type { SshTarget } from './types';

/** What became known while connecting, kept even when the connection failed. */
export interface SessionObservation {
  /** The fingerprint the host presented. */
  hostKey?: string;
  hostKeyChanged?: boolean;
}

export interface ExecOutput {
  /** -1 when the command ended without an exit status. */
  code: number;
  signal?: string;
  stdout: string;
  stderr: string;
  truncated: boolean;
}

export interface Session {
  exec(command: string, signal: AbortSignal, capBytes: number): Promise<ExecOutput>;
  /** Graceful: sends a disconnect and ends the socket. */
  close(): void;
  /** Drops the socket at once (after a deadline: the peer may not answer anymore). */
  abort(): void;
}

export interface OpenSessionOptions {
  target: SshTarget;
  knownHosts: KnownHostsStore;
  log: Log;
  signal: AbortSignal;
  seen: SessionObservation;
}

type Ssh2Error = Error & { level?: string; code?: string };

function mapConnectError(err: Ssh2Error, target: SshTarget): SshError {
  const where = `${target.host}:${target.port}`;
  if (err.level === 'client-authentication') {
    return new SshAuthError(`ssh ${target.id}: ${where} refused the key of user '${target.username}'`, target.id, {
      cause: err,
    });
  }
  const code = typeof err.code === 'string' ? err.code : undefined;
  const what = code === 'ECONNREFUSED' ? 'connection refused' : err.message;
  return new SshConnectError(`ssh ${target.id}: cannot connect to ${where}: ${what}`, target.id, code, { cause: err });
}

/** The expected fingerprint: the target's pin, else the store's record. Throws SshTargetError on a bad pin. */
async function expectedKey(target: SshTarget, store: KnownHostsStore): Promise<{ fp?: string; pinned: boolean }> {
  if (target.hostKey !== undefined) {
    const fp = normalizeFingerprint(target.hostKey);
    if (!fp) {
      throw new SshTargetError(
        `ssh ${target.id}: invalid pinned host key '${target.hostKey}': expected SHA256:<base64>`,
        target.id,
      );
    }
    return { fp, pinned: true };
  }
  const recorded = await store.get(target.id);
  return recorded === undefined ? { pinned: false } : { fp: normalizeFingerprint(recorded) ?? recorded, pinned: false };
}

function checkTarget(target: SshTarget): void {
  if (!Number.isInteger(target.port) || target.port < 1 || target.port > 65535) {
    throw new SshTargetError(`ssh ${target.id}: invalid port ${target.port}`, target.id);
  }
  if (!target.host) throw new SshTargetError(`ssh ${target.id}: no host`, target.id);
  if (!target.username) throw new SshTargetError(`ssh ${target.id}: no username`, target.id);
}

/**
 * Opens an authenticated session. The host key must equal the pin (or the recorded key); an unknown key is
 * recorded only when the store allows trust on first use, and only once the session is authenticated.
 */
export async function openSession(opts: OpenSessionOptions): Promise<Session> {
  const { target, knownHosts, log, signal, seen } = opts;
  checkTarget(target);
  const expected = await raceAbort(expectedKey(target, knownHosts), signal);
  // Loaded on the first session: a core with no SSH target never pays for ssh2 (and its crypto) at start.
  const { Client: SshClient } = await import('ssh2');
  const client = new SshClient();
  // ssh2 emits 'error' for late failures too; without a listener that would crash the process.
  client.on('error', () => {});
  let refusal: SshError | undefined;
  let firstUse = false;

  const hostVerifier = (key: Buffer): boolean => {
    const presented = fingerprintOf(key);
    seen.hostKey = presented;
    if (expected.fp !== undefined) {
      if (presented === expected.fp) return true;
      seen.hostKeyChanged = true;
      const source = expected.pinned ? 'pinned' : 'recorded';
      refusal = new SshHostKeyMismatchError(
        `ssh ${target.id}: HOST KEY CHANGED for ${target.host}:${target.port}: presented ${presented}, ${source} ${expected.fp}; connection refused`,
        target.id,
        expected.fp,
        presented,
      );
      return false;
    }
    if (knownHosts.tofu === true) {
      firstUse = true;
      return true;
    }
    refusal = new SshUnknownHostKeyError(
      `ssh ${target.id}: unknown host key ${presented} for ${target.host}:${target.port} (no pin, trust on first use is off); connection refused`,
      target.id,
      presented,
    );
    return false;
  };

  const ready = new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', (err: Ssh2Error) => reject(refusal ?? mapConnectError(err, target)));
    client.once('close', () =>
      reject(
        refusal ??
          new SshConnectError(
            `ssh ${target.id}: ${target.host}:${target.port} closed the connection before the session was ready`,
            target.id,
          ),
      ),
    );
  });
  const onAbort = () => client.destroy();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    try {
      client.connect({
        host: target.host,
        port: target.port,
        username: target.username,
        privateKey: target.privateKey,
        ...(target.passphrase !== undefined ? { passphrase: target.passphrase } : {}),
        // Time limits run on the injected clock (the caller's signal), not on ssh2's own timers.
        readyTimeout: 0,
        hostVerifier,
      });
    } catch (cause) {
      ready.catch(() => {});
      throw new SshTargetError(`ssh ${target.id}: cannot use the private key: ${(cause as Error).message}`, target.id, {
        cause,
      });
    }
    await raceAbort(ready, signal);
    if (firstUse && seen.hostKey) await raceAbort(recordFirstUse(target, knownHosts, log, seen), signal);
  } catch (err) {
    client.destroy();
    throw err;
  } finally {
    signal.removeEventListener('abort', onAbort);
  }

  return {
    exec: (command, execSignal, capBytes) => execOn(client, command, capBytes, target, execSignal),
    close: () => {
      client.end();
    },
    abort: () => {
      client.destroy();
    },
  };
}

/** Records a first-seen key, unless another connection recorded a different one meanwhile. */
async function recordFirstUse(
  target: SshTarget,
  store: KnownHostsStore,
  log: Log,
  seen: SessionObservation,
): Promise<void> {
  const presented = seen.hostKey!;
  const now = await store.get(target.id);
  if (now !== undefined && normalizeFingerprint(now) !== presented) {
    seen.hostKeyChanged = true;
    throw new SshHostKeyMismatchError(
      `ssh ${target.id}: HOST KEY CHANGED for ${target.host}:${target.port}: presented ${presented}, recorded ${now}; connection refused`,
      target.id,
      now,
      presented,
    );
  }
  if (now === undefined) {
    await store.set(target.id, presented);
    log.warn(`ssh ${target.id}: trusting host key ${presented} of ${target.host}:${target.port} on first use`);
  }
}

/** Collects up to `cap` bytes of a stream, draining the rest so the remote side never blocks. */
class CappedBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  truncated = false;
  constructor(private readonly cap: number) {}
  push(chunk: Buffer): void {
    const room = this.cap - this.size;
    if (room <= 0) {
      this.truncated = true;
      return;
    }
    const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
    if (part.length < chunk.length) this.truncated = true;
    this.chunks.push(part);
    this.size += part.length;
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

/**
 * Runs one command. When `signal` aborts, the remote command is sent SIGKILL (without a pty it would
 * otherwise outlive the connection) and the promise rejects with the signal's reason. Best effort: OpenSSH
 * refuses signal requests for sessions without privilege separation (root logins).
 */
function execOn(
  client: Client,
  command: string,
  cap: number,
  target: SshTarget,
  signal: AbortSignal,
): Promise<ExecOutput> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<ExecOutput>((resolve, reject) => {
    let channel: ClientChannel | undefined;
    const onClose = () => {
      signal.removeEventListener('abort', onAbort);
      reject(new SshConnectError(`ssh ${target.id}: connection closed while running a command`, target.id));
    };
    const onAbort = () => {
      client.removeListener('close', onClose);
      try {
        channel?.signal('KILL');
        channel?.close();
      } catch {}
      reject(signal.reason);
    };
    client.once('close', onClose);
    signal.addEventListener('abort', onAbort, { once: true });
    client.exec(command, (err: Error | undefined, stream: ClientChannel) => {
      if (signal.aborted) {
        stream?.close();
        return;
      }
      if (err) {
        signal.removeEventListener('abort', onAbort);
        client.removeListener('close', onClose);
        reject(
          new SshConnectError(`ssh ${target.id}: cannot start command: ${err.message}`, target.id, undefined, {
            cause: err,
          }),
        );
        return;
      }
      channel = stream;
      const out = new CappedBuffer(cap);
      const errOut = new CappedBuffer(cap);
      let code: number | null = null;
      let exitSignal: string | undefined;
      stream.on('data', (d: Buffer) => out.push(d));
      stream.stderr.on('data', (d: Buffer) => errOut.push(d));
      stream.on('exit', (c: number | null, sig?: string) => {
        code = c;
        if (typeof sig === 'string') exitSignal = sig;
      });
      stream.on('close', () => {
        signal.removeEventListener('abort', onAbort);
        client.removeListener('close', onClose);
        resolve({
          code: code ?? -1,
          ...(exitSignal !== undefined ? { signal: exitSignal } : {}),
          stdout: out.text(),
          stderr: errOut.text(),
          truncated: out.truncated || errOut.truncated,
        });
      });
    });
  });
}
