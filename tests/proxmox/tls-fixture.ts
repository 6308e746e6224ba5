// Test certificates: the simulator's generator (a CA and a server certificate for 127.0.0.1 signed by it, made
// with the openssl CLI in a temp dir), plus an unrelated second CA for "wrong CA" tests.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateTestCertificates } from '../../adapters/pve-sim';

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

export function createTlsFixture(): TlsFixture {
  const dir = mkdtempSync(join(tmpdir(), 'overseer-pve-tls-'));
  const certs = generateTestCertificates(join(dir, 'server'));
  const other = generateTestCertificates(join(dir, 'other'));
  return {
    ca: certs.caCert,
    otherCa: other.caCert,
    cert: certs.cert,
    key: certs.key,
    fingerprint: certs.fingerprint,
    dir,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
