import { CloseCode } from './close-codes.js';
import { ErrorCode } from './error-codes.js';
import type { ClientFrame, JsonValue } from './frames.js';
import { exceedsDepth } from './json-depth.js';
import { Limits } from './limits.js';
import { type FrameRejection, rejection } from './protocol-error.js';

export type DecodeResult = { ok: true; frame: ClientFrame } | { ok: false; error: FrameRejection };

type Fields = Record<string, unknown>;

const fail = (message: string, id?: string): DecodeResult => ({
  ok: false,
  error: rejection(ErrorCode.BadFrame, message, CloseCode.ProtocolError, id),
});

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

function isBoundedString(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length >= 1 && value.length <= max;
}

function decodeHello(f: Fields): DecodeResult {
  if (f.token !== undefined && !isBoundedString(f.token, Limits.maxTokenLength)) {
    return fail('hello.token must be a non-empty string');
  }
  if (f.lastSeq !== undefined && !isSeq(f.lastSeq)) {
    return fail('hello.lastSeq must be a non-negative integer');
  }
  if (f.epoch !== undefined && !isBoundedString(f.epoch, 64)) {
    return fail('hello.epoch must be a string of 1 to 64 characters');
  }
  return {
    ok: true,
    frame: {
      type: 'hello',
      ...(f.token !== undefined && { token: f.token }),
      ...(f.lastSeq !== undefined && { lastSeq: f.lastSeq }),
      ...(f.epoch !== undefined && { epoch: f.epoch }),
    },
  };
}

function decodeAck(f: Fields): DecodeResult {
  if (!isSeq(f.seq)) return fail('ack.seq must be a non-negative integer');
  return { ok: true, frame: { type: 'ack', seq: f.seq } };
}

function decodePublish(f: Fields): DecodeResult {
  if (!isBoundedString(f.id, Limits.maxPublishIdLength)) {
    return fail(`publish.id must be a string of 1 to ${Limits.maxPublishIdLength} characters`);
  }
  const id = f.id;
  if (f.threadId !== undefined && !isBoundedString(f.threadId, Limits.maxThreadIdLength)) {
    return fail('publish.threadId must be a non-empty string', id);
  }
  if (f.data === undefined) return fail('publish.data is required', id);
  if (exceedsDepth(f.data, Limits.maxJsonDepth)) {
    return fail(`publish.data nests deeper than ${Limits.maxJsonDepth}`, id);
  }
  return {
    ok: true,
    frame: {
      type: 'publish',
      id,
      data: f.data as JsonValue,
      ...(f.threadId !== undefined && { threadId: f.threadId }),
    },
  };
}

function decodeSync(f: Fields): DecodeResult {
  if (!isBoundedString(f.runId, Limits.maxRunIdLength)) {
    return fail(`sync.runId must be a string of 1 to ${Limits.maxRunIdLength} characters`);
  }
  return { ok: true, frame: { type: 'sync', runId: f.runId } };
}

/**
 * Decodes the JSON body of `POST /v1/ack` or `POST /v1/publish` (protocol.md
 * section 10): the frame of the same name without `type`, checked by the
 * same rules. A `type` in the body is ignored.
 */
export function decodeHttpBody(kind: 'ack' | 'publish', text: string): DecodeResult {
  const parsed = parseObject(text, 'body');
  if (parsed.rejected !== undefined) return parsed.rejected;
  return kind === 'ack' ? decodeAck(parsed.fields) : decodePublish(parsed.fields);
}

/** The JSON object in `text`, or the rejection of what `what` (frame, body) is instead. */
function parseObject(
  text: string,
  what: string,
): { fields: Fields; rejected?: undefined } | { rejected: DecodeResult } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { rejected: fail(`${what} is not valid JSON`) };
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return { rejected: fail(`${what} must be a JSON object`) };
  }
  return { fields: parsed as Fields };
}

/**
 * Decodes one client text frame. Never throws: anything malformed comes back
 * as a rejection naming the close code the contract prescribes.
 */
export function decodeClientFrame(text: string): DecodeResult {
  const parsed = parseObject(text, 'frame');
  if (parsed.rejected !== undefined) return parsed.rejected;
  const fields = parsed.fields;
  switch (fields.type) {
    case 'hello':
      return decodeHello(fields);
    case 'ack':
      return decodeAck(fields);
    case 'publish':
      return decodePublish(fields);
    case 'sync':
      return decodeSync(fields);
    default:
      return {
        ok: false,
        error: rejection(
          ErrorCode.UnknownType,
          typeof fields.type === 'string'
            ? `unknown frame type "${fields.type.slice(0, 32)}"`
            : 'frame.type must be a string',
        ),
      };
  }
}
