// Input checking: every path parameter, query string and body goes through a zod schema, and every failure
// becomes a 400 naming the offending field.
import type { Context } from 'hono';
import type { z } from 'zod';
import { fieldIssues } from '../protocol';
import type { AppEnv } from './deps';
import type { InputLocation } from './errors';
import { BadRequestError } from './errors';

/** Parses `value` with `schema`, or throws a 400 naming the first offending field. */
export function parseInput<S extends z.ZodType>(schema: S, value: unknown, where: InputLocation): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issues = fieldIssues(parsed.error.issues, where);
  const first = issues[0] ?? { field: where, message: 'invalid input' };
  throw new BadRequestError(`${first.field}: ${first.message}`, first.field, where, { issues, cause: parsed.error });
}

/**
 * The query string as an object; a key given twice is refused (which value was meant?). The object has no
 * prototype, so `__proto__` is an own (unknown, refused) key instead of being dropped by the assignment.
 */
export function queryObject(c: Context<AppEnv>): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  const url = c.req.url;
  // No query string (a submission, most calls): nothing to parse, no URL object to build.
  if (!url.includes('?')) return out;
  for (const [key, value] of new URL(url).searchParams) {
    if (Object.hasOwn(out, key)) {
      const name = key === '' ? 'a parameter with an empty name' : key;
      throw new BadRequestError(`${name}: given more than once`, key === '' ? 'query' : key, 'query');
    }
    out[key] = value;
  }
  return out;
}

/**
 * Reads the body as JSON, whatever its Content-Type claims (`curl -d` sends form-urlencoded), and parses it. An empty body stands for `{}` when `optional`.
 * The size limit is applied before (bodyLimit middleware → 413).
 */
export async function readJsonBody<S extends z.ZodType>(
  c: Context<AppEnv>,
  schema: S,
  optional: boolean,
): Promise<z.infer<S>> {
  const text = await c.req.text();
  if (text.trim() === '') {
    if (optional) return parseInput(schema, {}, 'body');
    throw new BadRequestError('body: expected a JSON object, got an empty body', 'body', 'body');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new BadRequestError(`body: not valid JSON (${(err as Error).message})`, 'body', 'body', { cause: err });
  }
  return parseInput(schema, value, 'body');
}
