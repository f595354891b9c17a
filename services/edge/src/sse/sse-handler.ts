import { ErrorCode, type HelloFrame } from '@agentwire/protocol';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { connectionClosed, connectionId, connectionOpened } from '../connection-lifecycle.js';
import type { EdgeContext } from '../edge-context.js';
import { replyJson, Status } from '../http/respond.js';
import { refuseOrigin, type UserCors } from '../http/user-cors.js';
import { userTokenOf } from '../http/user-token.js';
import { Connection } from '../ws/connection.js';
import { trackInFlight } from '../ws/in-flight.js';
import { SERVER_ERROR_CLOSE } from '../ws/server-error-close.js';
import { openConnectionSession } from '../ws/session-opener.js';
import { parseSsePosition } from './sse-position.js';
import { SseSink } from './sse-sink.js';

/**
 * GET /v1/sse (protocol.md section 10): the event stream of section 1-3a as
 * Server-Sent Events. After the checks below the stream is a Connection like
 * a WebSocket's, with an SseSink in place of the socket, opened exactly as a
 * hello would open it (openConnectionSession: local registry before the
 * route registration, route before the log read, so the connect/live race is
 * closed the same way), counted for the node and user limits, presence,
 * metrics, heartbeats and drain.
 *
 * Refusals before the stream starts: 403 origin, 503 draining or Redis not
 * reachable, 400 malformed position, 401 missing or bad token, 429 node limit
 * (here) or user limit (from the session script), 503 session store failure.
 */
export function createSseHandler(
  ctx: EdgeContext,
  cors: UserCors,
): (res: HttpResponse, req: HttpRequest) => void {
  const env = ctx.env;
  // The WebSocket's maxBackpressure (ws-behavior.ts): past it a send is dropped.
  const maxBufferedBytes = env.SEND_BUFFER_HARD_BYTES + 2 * env.MAX_EVENT_BYTES + 256 * 1024;
  const refuse = (
    res: HttpResponse,
    status: string,
    error: string,
    message: string,
    headers: Record<string, string> = {},
  ) => replyJson(res, undefined, status, { error, message }, { headers });

  return (res, req) => {
    // uWS frees req when this function returns: copy everything first.
    const headers = cors.headers(req.getHeader('origin'));
    const authorization = req.getHeader('authorization');
    const lastEventId = req.getHeader('last-event-id');
    const query = new URLSearchParams(req.getQuery() ?? '');
    if (headers === undefined) {
      refuseOrigin(res);
      return;
    }
    const retry = { ...headers, 'retry-after': '1' };
    // Draining or full: checked again after the token check, which lets other streams in meanwhile.
    const refusedForCapacity = (): boolean => {
      if (ctx.draining || ctx.connections.size >= env.MAX_CONNECTIONS) {
        const [status, error, message] = ctx.draining
          ? [Status.unavailable, ErrorCode.Unavailable, 'node draining']
          : [Status.tooManyRequests, ErrorCode.LimitReached, 'node connection limit reached'];
        refuse(res, status, error, message, retry);
        return true;
      }
      return false;
    };
    if (refusedForCapacity()) return;
    if (ctx.redis.status !== 'ready') {
      refuse(res, Status.unavailable, ErrorCode.Unavailable, 'session store unavailable', retry);
      return;
    }
    const position = parseSsePosition(lastEventId, query);
    if (!position.ok) {
      refuse(res, Status.badRequest, ErrorCode.BadRequest, position.message, headers);
      return;
    }
    const token = userTokenOf(authorization, query);
    if (token === undefined) {
      refuse(
        res,
        Status.unauthorized,
        ErrorCode.Unauthorized,
        'expected Authorization: Bearer <jwt> or ?token=<jwt>',
        headers,
      );
      return;
    }
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    void ctx.jwt.verify(token).then((check) => {
      if (aborted) return;
      if (!check.ok) {
        refuse(res, Status.unauthorized, ErrorCode.Unauthorized, check.reason, headers);
        return;
      }
      if (refusedForCapacity()) return;
      openSseConnection(ctx, res, check.userId, headers, position, maxBufferedBytes);
    });
  };
}

/**
 * The stream passed every check: a Connection with an SseSink, opened like a
 * WebSocket's after its hello. A function of its own so that the closures a
 * stream keeps for its lifetime hold nothing of the request handling.
 */
function openSseConnection(
  ctx: EdgeContext,
  res: HttpResponse,
  userId: string,
  headers: Record<string, string>,
  position: { lastSeq?: number; epoch?: string },
  maxBufferedBytes: number,
): void {
  const conn = new Connection(connectionId(), userId, ctx.connectionShared, Date.now());
  conn.transport = 'sse';
  conn.attach(
    new SseSink(res, {
      headers,
      maxBufferedBytes,
      owner: conn,
      onClosed: (code) => connectionClosed(ctx, conn, code),
    }),
  );
  connectionOpened(ctx, conn);
  const hello: HelloFrame = { type: 'hello' };
  if (position.lastSeq !== undefined) hello.lastSeq = position.lastSeq;
  if (position.epoch !== undefined) hello.epoch = position.epoch;
  trackInFlight(
    ctx,
    openConnectionSession(ctx, conn, hello).catch((error: unknown) => {
      ctx.logger.error({ err: error }, 'opening an SSE session failed unexpectedly');
      conn.end(SERVER_ERROR_CLOSE, 'internal error');
    }),
  );
}
