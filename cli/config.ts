// Where the gateway is and which token to use: OVERSEER_URL (default http://127.0.0.1:8001), OVERSEER_TOKEN,
// else the admin token file $OVERSEER_DATA_DIR/admin.token (default data dir ./data).
import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { CliError, UsageError } from './errors';
import { EXIT } from './exit-codes';
import type { CliEnv, CliIO } from './io';

export const DEFAULT_URL = 'http://127.0.0.1:8001';
export const DEFAULT_DATA_DIR = './data';
export const ADMIN_TOKEN_FILE = 'admin.token';

export function gatewayUrl(env: CliEnv): string {
  const raw = env.OVERSEER_URL?.trim() || DEFAULT_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`OVERSEER_URL is not a URL: '${raw}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`OVERSEER_URL must be http:// or https:// (got '${raw}')`);
  }
  return url.href.replace(/\/+$/, '');
}

export function adminTokenPath(env: CliEnv, cwd: string): string {
  const dir = env.OVERSEER_DATA_DIR?.trim() || DEFAULT_DATA_DIR;
  return join(isAbsolute(dir) ? dir : join(cwd, dir), ADMIN_TOKEN_FILE);
}

export async function resolveToken(env: CliEnv, io: CliIO): Promise<string> {
  const fromEnv = env.OVERSEER_TOKEN?.trim();
  if (fromEnv) return fromEnv;
  const path = adminTokenPath(env, io.cwd ?? process.cwd());
  let text: string;
  try {
    text = await (io.readFile ?? ((p: string) => readFile(p, 'utf8')))(path);
  } catch (err) {
    throw new CliError(`no token: set OVERSEER_TOKEN, or make ${path} readable`, EXIT.auth, { cause: err });
  }
  const token = text.trim();
  if (!token) throw new CliError(`no token: ${path} is empty`, EXIT.auth);
  return token;
}
