import type { HttpResponse } from 'uWebSockets.js';
import type { RequestGuard } from './respond.js';

/** The body passed the byte limit: answer 413 and close the connection. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError';
  constructor(readonly limit: number) {
    super(`request body exceeds ${limit} bytes`);
  }
}

/** The body did not arrive in time (a stalled or trickling client): answer 408 and close. */
export class BodyTimeoutError extends Error {
  override readonly name = 'BodyTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`request body not received within ${timeoutMs} ms`);
  }
}

/** The client went away before the body was complete. */
export class RequestAbortedError extends Error {
  override readonly name = 'RequestAbortedError';
  constructor() {
    super('request aborted');
  }
}

export interface BodyLimits {
  /** Largest body in bytes. */
  maxBytes: number;
  /** Deadline for the whole body, from the call. */
  timeoutMs: number;
}

/**
 * Reads a request body of at most `maxBytes` bytes within `timeoutMs`.
 * Chunks are copied (uWS neuters them after the callback). Rejects with
 * BodyTooLargeError as soon as the limit is passed, without waiting for the
 * rest; with BodyTimeoutError when the deadline passes first (uWS's own idle
 * timeout restarts on every packet, so a body sent a few bytes at a time
 * would otherwise hold the request open indefinitely); and with
 * RequestAbortedError when the client goes away.
 */
export function readBody(
  res: HttpResponse,
  guard: RequestGuard,
  limits: BodyLimits,
): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (): void => {
      settled = true;
      clearTimeout(deadline);
    };
    const deadline = setTimeout(() => {
      if (settled) return;
      settle();
      reject(new BodyTimeoutError(limits.timeoutMs));
    }, limits.timeoutMs);
    guard.onAbort(() => {
      if (settled) return;
      settle();
      reject(new RequestAbortedError());
    });
    res.onData((chunk, isLast) => {
      if (settled) return;
      size += chunk.byteLength;
      if (size > limits.maxBytes) {
        settle();
        reject(new BodyTooLargeError(limits.maxBytes));
        return;
      }
      chunks.push(Buffer.from(new Uint8Array(chunk)));
      if (isLast) {
        settle();
        resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
      }
    });
  });
}
