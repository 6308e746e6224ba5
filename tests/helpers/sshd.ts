// Starts a private OpenSSH sshd for one test file: a free port on 127.0.0.1, temp host key, temp
// authorized_keys holding a generated client key, logging in as the current user. As root, sshd needs
// /run/sshd: it runs in a private mount namespace with a temp dir bound over /run, so the machine is untouched.
// In that namespace an empty temp dir is also bound over the user's home: each SSH command starts a clean shell,
// as on a fresh guest, instead of root's ~/.bashrc here (pyenv init: over a second per command under load).
import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { findFreePort } from '../../adapters/nats/server-process';
import { findTool } from '../setup/prerequisites';

/** sshd and ssh-keygen, looked up on $PATH and in /usr/sbin, /usr/bin...; the globalSetup makes sure they are there. */
const SSHD = findTool('sshd');
const SSH_KEYGEN = findTool('ssh-keygen');
export const SSHD_BINARY = SSHD ?? '/usr/sbin/sshd';
const SSH_KEYGEN_BINARY = SSH_KEYGEN ?? 'ssh-keygen';

/** True when the tests can run an sshd here. */
export const sshdAvailable = SSHD !== null && SSH_KEYGEN !== null;

export interface TestSshd {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** The current user, whose shell works. */
  readonly username: string;
  /** The client's private key (OpenSSH format). */
  readonly privateKey: string;
  /** The current host key's fingerprint as `ssh-keygen -l -E sha256` prints it. */
  readonly hostKeyFingerprint: string;
  readonly dir: string;
  /** What sshd wrote (last 20 kB), for diagnosis. */
  output(): string;
  /** Stops sshd and removes the temp dir. */
  stop(): Promise<void>;
  /** Stops sshd, generates a new host key and starts it again on the same port. */
  restartWithNewHostKey(): Promise<void>;
}

function keygen(path: string): void {
  rmSync(path, { force: true });
  rmSync(`${path}.pub`, { force: true });
  execFileSync(SSH_KEYGEN_BINARY, ['-q', '-t', 'ed25519', '-N', '', '-C', 'overseer-test', '-f', path], {
    stdio: 'ignore',
  });
}

function fingerprint(pubPath: string): string {
  const out = execFileSync(SSH_KEYGEN_BINARY, ['-l', '-E', 'sha256', '-f', pubPath], { encoding: 'utf8' });
  const fp = out.split(/\s+/)[1];
  if (!fp?.startsWith('SHA256:')) throw new Error(`unexpected ssh-keygen -l output: ${out}`);
  return fp;
}

/** OpenSSH 9.8 added PerSourcePenalties, which would lock out the many refused test connections. */
function supportsPerSourcePenalties(): boolean {
  const r = spawnSync(SSHD_BINARY, ['-V'], { encoding: 'utf8' });
  const m = /OpenSSH_(\d+)\.(\d+)/.exec(`${r.stdout ?? ''}${r.stderr ?? ''}`);
  return m ? Number(m[1]) > 9 || (Number(m[1]) === 9 && Number(m[2]) >= 8) : false;
}

/** Can we use `unshare -m` (root, and the kernel allows it)? */
function canUnshare(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('unshare', ['-m', '--propagation', 'private', 'true'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

function waitForBanner(port: number, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const sock = connect({ host: '127.0.0.1', port });
      let data = '';
      const retry = (why: string) => {
        sock.destroy();
        if (Date.now() > until) reject(new Error(`sshd on port ${port} not ready: ${why}`));
        else setTimeout(attempt, 50);
      };
      sock.setTimeout(1000, () => retry('no banner'));
      sock.on('data', (d: Buffer) => {
        data += d.toString();
        if (data.startsWith('SSH-2.0-')) {
          sock.destroy();
          resolve();
        }
      });
      sock.on('error', (e) => retry(e.message));
      sock.on('close', () => {
        if (!data.startsWith('SSH-2.0-')) retry('closed');
      });
    };
    attempt();
  });
}

export async function startSshd(): Promise<TestSshd> {
  if (!sshdAvailable)
    throw new Error('sshd or ssh-keygen not found; install them with: apt-get install -y openssh-server');
  const dir = mkdtempSync(join(tmpdir(), 'overseer-sshd-'));
  const hostKeyPath = join(dir, 'key');
  const clientKeyPath = join(dir, 'client');
  mkdirSync(join(dir, 'run'));
  mkdirSync(join(dir, 'home'));
  keygen(hostKeyPath);
  keygen(clientKeyPath);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(`${clientKeyPath}.pub`), { mode: 0o600 });
  const privateKey = readFileSync(clientKeyPath, 'utf8');
  const { username, homedir } = userInfo();
  // Not when home is / or holds our temp dir (TMPDIR under it): the bind would hide the config and keys.
  const canHideHome = existsSync(homedir) && homedir !== '/' && !dir.startsWith(`${homedir}/`);
  const cleanHome = canHideHome ? ` && mount --bind '${join(dir, 'home')}' '${homedir}'` : '';
  const unshare = canUnshare();
  const penalties = supportsPerSourcePenalties();

  let port = 0;
  let proc: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();
  let log = '';
  let hostKeyFingerprint = fingerprint(`${hostKeyPath}.pub`);

  const writeConfig = () => {
    const lines = [
      'ListenAddress 127.0.0.1',
      `Port ${port}`,
      `HostKey ${hostKeyPath}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'StrictModes no',
      'UsePAM no',
      'PubkeyAuthentication yes',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PermitRootLogin prohibit-password',
      'UseDNS no',
      'LogLevel INFO',
      ...(penalties ? ['PerSourcePenalties no'] : []),
    ];
    writeFileSync(join(dir, 'sshd_config'), `${lines.join('\n')}\n`);
  };

  const launch = async () => {
    writeConfig();
    const config = join(dir, 'sshd_config');
    const child = unshare
      ? spawn(
          'unshare',
          [
            '-m',
            '--propagation',
            'private',
            'sh',
            '-c',
            `mount --bind '${join(dir, 'run')}' /run${cleanHome} && mkdir -p /run/sshd && exec ${SSHD_BINARY} -D -e -f '${config}'`,
          ],
          { stdio: ['ignore', 'ignore', 'pipe'] },
        )
      : spawn(SSHD_BINARY, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr?.on('data', (d: Buffer) => {
      log = (log + d.toString()).slice(-20_000);
    });
    proc = child;
    let died = false;
    exited = new Promise<void>((resolve) =>
      child.once('exit', () => {
        died = true;
        resolve();
      }),
    );
    try {
      await waitForBanner(port, 5_000);
    } catch (err) {
      child.kill('SIGKILL');
      await exited;
      throw new Error(`${(err as Error).message}${died ? ' (sshd exited)' : ''}\n${log}`);
    }
  };

  const halt = async () => {
    if (proc && proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc?.kill('SIGKILL'), 2_000);
      await exited;
      clearTimeout(timer);
    }
    proc = undefined;
  };

  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    port = await findFreePort();
    try {
      await launch();
      lastError = undefined;
      break;
    } catch (err) {
      lastError = err;
    }
  }
  if (lastError) {
    rmSync(dir, { recursive: true, force: true });
    throw lastError;
  }

  return {
    host: '127.0.0.1',
    get port() {
      return port;
    },
    username,
    privateKey,
    get hostKeyFingerprint() {
      return hostKeyFingerprint;
    },
    dir,
    output: () => log,
    async stop() {
      await halt();
      rmSync(dir, { recursive: true, force: true });
    },
    async restartWithNewHostKey() {
      await halt();
      keygen(hostKeyPath);
      hostKeyFingerprint = fingerprint(`${hostKeyPath}.pub`);
      await launch();
    },
  };
}
