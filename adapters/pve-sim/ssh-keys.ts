// Cloud-init `sshkeys`: URL-encoded public keys, one per line. qemu-server unescapes them (URI::Escape::uri_unescape)
// and has PVE::Tools::validate_ssh_public_keys run `ssh-keygen -l` on every non-blank line; any line ssh-keygen
// cannot read fails the whole request with "SSH public key validation error".

/** uri_unescape: %XX sequences become bytes (read as UTF-8); anything else stays as it is. */
export function uriUnescape(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const hex = /^%([0-9A-Fa-f]{2})/.exec(text.slice(i, i + 3));
    if (hex) {
      bytes.push(Number.parseInt(hex[1]!, 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(text[i]!, 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

const KEY_TYPES = new Set([
  'ssh-rsa',
  'ssh-dss',
  'ssh-ed25519',
  'ssh-ed448',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'sk-ssh-ed25519@openssh.com',
]);

const isKeyType = (t: string): boolean => KEY_TYPES.has(t) || KEY_TYPES.has(t.replace(/-cert-v01@openssh\.com$/, ''));

/** Whether a base64 blob is an SSH public key of `type` (its first field is the type name, length-prefixed). */
function blobIsKey(type: string, b64: string): boolean {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return false;
  const blob = Buffer.from(b64, 'base64');
  if (blob.length < 4) return false;
  const len = blob.readUInt32BE(0);
  return len === type.length && blob.subarray(4, 4 + len).toString('latin1') === type && blob.length > 4 + len;
}

/** One authorized_keys line ssh-keygen -l reads: `[options] <type> <base64> [comment]`. */
function isPublicKeyLine(line: string): boolean {
  const tokens = line.trim().split(/\s+/);
  for (let i = 0; i + 1 < tokens.length; i++) {
    if (isKeyType(tokens[i]!)) return blobIsKey(tokens[i]!, tokens[i + 1]!);
  }
  return false;
}

/** validate_ssh_public_keys of the unescaped text: the lines that are not keys (empty when all are). */
export function invalidKeyLines(keys: string): string[] {
  return keys.split('\n').filter((line) => !/^\s*$/.test(line) && !isPublicKeyLine(line));
}

export const SSH_KEY_ERROR = 'SSH public key validation error';
