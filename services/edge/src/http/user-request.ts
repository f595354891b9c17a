import { isUtf8 } from 'node:buffer';
import { decodeHttpBody, ErrorCode, type ClientFrame } from '@agentwire/protocol';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { EdgeContext } from '../edge-context.js';
import { BodyTimeoutError, BodyTooLargeError, readBody } from './read-body.js';
import { guardRequest, replyJson, Status, type RequestGuard } from './respond.js';
import { refuseOrigin, type UserCors } from './user-cors.js';
import { userTokenOf } from './user-token.js';

/** An authenticated user request (protocol.md section 10), its body read if it has one. */
export interface UserRequest {
  userId: string;
  query: URLSearchParams;
  /** UTF-8 body ('' for GET). */
  body: string;
  guard: RequestGuard;
  /** CORS headers every answer carries. */
  headers: Record<string, string>;
}

export interface UserRequestOptions {
  /** Largest body; undefined for requests without one (GET). */
  maxBodyBytes?: number;
  bodyTimeoutMs: number;
}

/** Body limits of POST /v1/ack and POST /v1/publish: a client frame's (MAX_PAYLOAD). */
export function userPostOptions(ctx: EdgeContext): UserRequestOptions {
  return { maxBodyBytes: ctx.env.MAX_PAYLOAD, bodyTimeoutMs: ctx.env.INGEST_BODY_TIMEOUT_MS };
}

/**
 * The common part of POST /v1/ack, POST /v1/publish and GET /v1/history:
 * origin (403), token from `Authorization: Bearer` or `?token=` (401), body
 * within its byte limit (413, connection closed) and deadline (408), valid
 * UTF-8 (400). Answers refusals itself and then resolves undefined.
 */
export function readUserRequest(
  ctx: EdgeContext,
  cors: UserCors,
  res: HttpResponse,
  req: HttpRequest,
  options: UserRequestOptions,
): Promise<UserRequest | undefined> {
  // uWS frees req when the handler returns: copy everything first.
  const headers = cors.headers(req.getHeader('origin'));
  const authorization = req.getHeader('authorization');
  const contentLength = req.getHeader('content-length');
  const query = new URLSearchParams(req.getQuery() ?? '');
  if (headers === undefined) {
    refuseOrigin(res);
    return Promise.resolve(undefined);
  }
  const guard = guardRequest(res);
  const fail = (status: string, error: string, message: string, close = false): undefined => {
    replyJson(res, guard, status, { error, message }, { headers, closeConnection: close });
    return undefined;
  };
  const token = userTokenOf(authorization, query);
  if (token === undefined) {
    return Promise.resolve(
      fail(
        Status.unauthorized,
        ErrorCode.Unauthorized,
        'expected Authorization: Bearer <jwt> or ?token=<jwt>',
        options.maxBodyBytes !== undefined,
      ),
    );
  }
  const { maxBodyBytes } = options;
  if (maxBodyBytes !== undefined && contentLength !== '' && Number(contentLength) > maxBodyBytes) {
    return Promise.resolve(tooLarge(maxBodyBytes));
  }
  function tooLarge(limit: number): undefined {
    return fail(Status.payloadTooLarge, ErrorCode.TooLarge, `body exceeds ${limit} bytes`, true);
  }
  const body =
    maxBodyBytes === undefined
      ? Promise.resolve(Buffer.alloc(0))
      : readBody(res, guard, { maxBytes: maxBodyBytes, timeoutMs: options.bodyTimeoutMs });
  return Promise.all([body, ctx.jwt.verify(token)]).then(
    ([bytes, check]) => {
      if (guard.done) return undefined;
      if (!check.ok) return fail(Status.unauthorized, ErrorCode.Unauthorized, check.reason);
      if (!isUtf8(bytes)) return fail(Status.badRequest, ErrorCode.BadRequest, 'body is not UTF-8');
      return { userId: check.userId, query, body: bytes.toString('utf8'), guard, headers };
    },
    (error: unknown) => {
      if (error instanceof BodyTooLargeError) return tooLarge(error.limit);
      if (error instanceof BodyTimeoutError) {
        return fail(Status.requestTimeout, ErrorCode.BadRequest, error.message, true);
      }
      return undefined; // The client went away.
    },
  );
}

/** Answers a user request with an error body and its CORS headers (Retry-After: 1 on 429 and 503). */
export function replyUserError(
  res: HttpResponse,
  request: Pick<UserRequest, 'guard' | 'headers'>,
  status: string,
  error: string,
  message: string,
  extra: Record<string, unknown> = {},
): void {
  const retry = status === Status.tooManyRequests || status === Status.unavailable;
  replyJson(
    res,
    request.guard,
    status,
    { error, message, ...extra },
    { headers: retry ? { ...request.headers, 'retry-after': '1' } : request.headers },
  );
}

/** The body as the client frame of that name (protocol.md section 10), or a 400 answered here. */
export function decodeUserBody<K extends 'ack' | 'publish'>(
  res: HttpResponse,
  request: UserRequest,
  kind: K,
): Extract<ClientFrame, { type: K }> | undefined {
  const decoded = decodeHttpBody(kind, request.body);
  if (decoded.ok && decoded.frame.type === kind) {
    return decoded.frame as Extract<ClientFrame, { type: K }>;
  }
  const message = decoded.ok ? `not a ${kind}` : decoded.error.message;
  replyUserError(res, request, Status.badRequest, ErrorCode.BadRequest, message);
  return undefined;
}
