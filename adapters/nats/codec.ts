// JSON on the wire, and the error envelope a responder answers with when its handler fails.
import { isCallerError } from '../../protocol/errors';
import { BusPayloadError } from './errors';

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Header marking a reply as an error envelope (so a payload that merely looks like one is not mistaken). */
export const ERROR_HEADER = 'Overseer-Error';

export interface ErrorReply {
  /** `field`: the input field the error is about (an InputRefusedError's), so the gateway can name it. */
  error: { name: string; message: string; field?: string };
}

/** JSON bytes of a payload; `undefined` travels as an empty body. */
export function encodePayload(payload: unknown): Uint8Array {
  if (payload === undefined) return new Uint8Array(0);
  let text: string | undefined;
  try {
    text = JSON.stringify(payload);
  } catch (err) {
    throw new BusPayloadError(`payload cannot be encoded as JSON: ${(err as Error).message}`, { cause: err });
  }
  if (text === undefined) throw new BusPayloadError(`payload of type ${typeof payload} cannot be encoded as JSON`);
  // Buffer.from, not TextEncoder.encode: on Node 20 it takes a tenth to a quarter of the encoder's time
  // (bench/text-encode.ts), and every event, request and reply on the bus is encoded here.
  return Buffer.from(text, 'utf8');
}

/** The payload of JSON bytes; an empty body is `undefined`. */
export function decodePayload(data: Uint8Array): unknown {
  if (data.length === 0) return undefined;
  try {
    return JSON.parse(decoder.decode(data));
  } catch (err) {
    throw new BusPayloadError(`payload is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

export function toErrorReply(err: unknown): ErrorReply {
  if (err instanceof Error) {
    const field = (err as { field?: unknown }).field;
    return {
      error: { name: err.name || 'Error', message: err.message, ...(typeof field === 'string' ? { field } : {}) },
    };
  }
  return { error: { name: 'Error', message: typeof err === 'string' ? err : 'responder failed' } };
}

export function isErrorReply(value: unknown): value is ErrorReply {
  if (typeof value !== 'object' || value === null) return false;
  const e = (value as { error?: unknown }).error;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof (e as { name?: unknown }).name === 'string' &&
    typeof (e as { message?: unknown }).message === 'string'
  );
}

/**
 * The bytes a responder sends back: the handler's answer, or an error envelope (`refused` when the error is the
 * caller's doing, see isCallerError). Never throws.
 */
export async function answerRequest(
  handler: (payload: unknown, subject: string) => Promise<unknown> | unknown,
  data: Uint8Array,
  subject: string,
): Promise<{ body: Uint8Array; isError: boolean; refused?: boolean }> {
  try {
    const payload = decodePayload(data);
    const result = await handler(payload, subject);
    return { body: encodePayload(result), isError: false };
  } catch (err) {
    return { body: encodePayload(toErrorReply(err)), isError: true, refused: isCallerError(err) };
  }
}
