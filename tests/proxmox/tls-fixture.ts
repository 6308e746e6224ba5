// Test certificates made with the openssl CLI in a temp dir: a CA, a server certificate for 127.0.0.1
// signed by it, and an unrelated second CA (for "wrong CA" tests).
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TlsFixture {
  /** PEM of the CA that signed the server certificate. */
  ca: string;
  /** PEM of a CA that signed nothing here. */
  otherCa: string;
  cert: string;
  key: string;
  /** SHA-256 of the server certificate, AA:BB:... */
  fingerprint: string;
  dir: string;
  cleanup(): void;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
}

function makeCa(dir: string, name: string, cn: string): void {
  openssl(
    [
      'req',
      '-x509',
      ...EC,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-days',
      '2',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
}

export function createTlsFixture(): TlsFixture {
  const dir = mkdtempSync(join(tmpdir(), 'overseer-pve-tls-'));
  makeCa(dir, 'ca', 'Overseer test PVE root CA');
  makeCa(dir, 'other-ca', 'Some other CA');
  openssl([...['req', ...EC], '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
  writeFileSync(
    join(dir, 'server.ext'),
    'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n',
  );
  openssl(
    [
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'server.crt',
      '-days',
      '2',
      '-sha256',
      '-extfile',
      'server.ext',
    ],
    dir,
  );
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  const cert = read('server.crt');
  return {
    ca: read('ca.crt'),
    otherCa: read('other-ca.crt'),
    cert,
    key: read('server.key'),
    fingerprint: new X509Certificate(cert).fingerprint256,
    dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
