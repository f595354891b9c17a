import type { HttpResponse } from 'uWebSockets.js';
import type { RequestGuard } from './respond.js';

/** The body passed the byte limit: answer 413 and close the connection. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`);
  }
}

/** The client went away before the body was complete. */
export class RequestAbortedError extends Error {
  override readonly name = 'RequestAbortedError';
  constructor() {
    super('request aborted');
  }
}

/**
 * Reads a request body of at most `limit` bytes. Chunks are copied (uWS
 * neuters them after the callback). Rejects with BodyTooLargeError as soon
 * as the limit is passed, without waiting for the rest, and with
 * RequestAbortedError when the client goes away.
 */
export function readBody(res: HttpResponse, guard: RequestGuard, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    guard.onAbort(() => {
      if (settled) return;
      settled = true;
      reject(new RequestAbortedError());
    });
    res.onData((chunk, isLast) => {
      if (settled) return;
      size += chunk.byteLength;
      if (size > limit) {
        settled = true;
        reject(new BodyTooLargeError(limit));
        return;
      }
      chunks.push(Buffer.from(new Uint8Array(chunk)));
      if (isLast) {
        settled = true;
        resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
      }
    });
  });
}
