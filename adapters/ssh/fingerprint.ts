// Host key fingerprints as OpenSSH prints them: `SHA256:` + unpadded base64 of the SHA-256 of the key blob.
import { createHash } from 'node:crypto';

const FINGERPRINT = /^SHA256:([A-Za-z0-9+/]{43})=?$/;

/** The fingerprint of a public key blob (the wire format ssh2 hands to `hostVerifier`). */
export function fingerprintOf(keyBlob: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(keyBlob).digest('base64').replace(/=+$/, '')}`;
}

/** The fingerprint of one `authorized_keys`/`.pub` line (`<type> <base64> [comment]`). */
export function fingerprintOfPublicKeyLine(line: string): string {
  const blob = line.trim().split(/\s+/)[1];
  if (!blob) throw new Error('not a public key line: expected "<type> <base64> [comment]"');
  return fingerprintOf(Buffer.from(blob, 'base64'));
}

/** `SHA256:<43 base64 chars>` with or without the trailing '=', normalized without; undefined when malformed. */
export function normalizeFingerprint(value: string): string | undefined {
  const m = FINGERPRINT.exec(value.trim());
  return m ? `SHA256:${m[1]}` : undefined;
}
