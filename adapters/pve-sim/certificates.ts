// Test certificates made with the openssl CLI: a self-signed CA and a server certificate for
// 127.0.0.1 / localhost signed by it (so clients can pin the CA, as with a real PVE cluster's CA).
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CertificateError } from './errors';

export interface TestCertificates {
  /** PEM of the CA certificate (what clients trust). */
  caCert: string;
  /** PEM of the server certificate. */
  cert: string;
  /** PEM of the server's private key. */
  key: string;
  caCertPath: string;
  certPath: string;
  keyPath: string;
  /** SHA-256 fingerprint of the server certificate, colon-separated upper-case hex (as PVE shows it). */
  fingerprint: string;
}

const OPENSSL = '/usr/bin/openssl';

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync(OPENSSL, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (cause) {
    const e = cause as { stderr?: Buffer; stdout?: Buffer };
    const output = `${e.stdout?.toString() ?? ''}${e.stderr?.toString() ?? ''}`;
    throw new CertificateError(`openssl ${args[0]} failed`, output, { cause });
  }
}

/** Writes ca.crt, ca.key, server.crt, server.key into `dir` (created if missing) and returns the PEMs. */
export function generateTestCertificates(dir: string): TestCertificates {
  mkdirSync(dir, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(
    [
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '30',
      '-subj',
      '/CN=Overseer Test CA/O=PVE Simulator',
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    ],
    dir,
  );
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1/O=PVE Simulator'], dir);
  writeFileSync(
    join(dir, 'server.ext'),
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '',
    ].join('\n'),
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
      '30',
      '-sha256',
      '-extfile',
      'server.ext',
    ],
    dir,
  );
  const caCertPath = join(dir, 'ca.crt');
  const certPath = join(dir, 'server.crt');
  const keyPath = join(dir, 'server.key');
  const cert = readFileSync(certPath, 'utf8');
  return {
    caCert: readFileSync(caCertPath, 'utf8'),
    cert,
    key: readFileSync(keyPath, 'utf8'),
    caCertPath,
    certPath,
    keyPath,
    fingerprint: new X509Certificate(cert).fingerprint256,
  };
}
