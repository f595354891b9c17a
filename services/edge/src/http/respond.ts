import type { HttpResponse } from 'uWebSockets.js';

/**
 * Tracks whether a response may still be written. uWS rules: a handler that
 * does not answer synchronously must register onAborted (once: a second
 * registration replaces the first, hence the listener list), and after an
 * await a response is only touched inside res.cork and only if not aborted.
 */
export interface RequestGuard {
  /** The client went away, or a response was already sent. */
  readonly done: boolean;
  onAbort(listener: () => void): void;
  /** Marks the response as sent. */
  finish(): void;
}

export function guardRequest(res: HttpResponse): RequestGuard {
  let done = false;
  const listeners: Array<() => void> = [];
  res.onAborted(() => {
    done = true;
    for (const listener of listeners) listener();
  });
  return {
    get done() {
      return done;
    },
    onAbort: (listener) => listeners.push(listener),
    finish: () => {
      done = true;
    },
  };
}

export interface ReplyOptions {
  headers?: Record<string, string>;
  /** Close the connection after the response (when a request body was left unread). */
  closeConnection?: boolean;
}

/** Writes a complete response, corked; a no-op once the guard is done. */
export function reply(
  res: HttpResponse,
  guard: RequestGuard | undefined,
  status: string,
  contentType: string,
  body: string | Uint8Array,
  options: ReplyOptions = {},
): void {
  if (guard?.done) return;
  guard?.finish();
  res.cork(() => {
    res.writeStatus(status).writeHeader('content-type', contentType);
    if (options.headers) {
      for (const [name, value] of Object.entries(options.headers)) res.writeHeader(name, value);
    }
    res.end(body, options.closeConnection ?? false);
  });
}

/** `reply` with a JSON body. */
export function replyJson(
  res: HttpResponse,
  guard: RequestGuard | undefined,
  status: string,
  body: unknown,
  options: ReplyOptions = {},
): void {
  reply(res, guard, status, 'application/json', JSON.stringify(body), options);
}

/** HTTP status lines the edge uses. */
export const Status = {
  ok: '200 OK',
  accepted: '202 Accepted',
  movedPermanently: '301 Moved Permanently',
  badRequest: '400 Bad Request',
  unauthorized: '401 Unauthorized',
  forbidden: '403 Forbidden',
  notFound: '404 Not Found',
  methodNotAllowed: '405 Method Not Allowed',
  requestTimeout: '408 Request Timeout',
  payloadTooLarge: '413 Payload Too Large',
  unsupportedMediaType: '415 Unsupported Media Type',
  upgradeRequired: '426 Upgrade Required',
  tooManyRequests: '429 Too Many Requests',
  internalError: '500 Internal Server Error',
  unavailable: '503 Service Unavailable',
} as const;
