import { ErrorCode } from '@agentwire/protocol';
import { readLatestSeq } from '@agentwire/redis';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { EdgeContext } from '../edge-context.js';
import { warnThrottled } from '../log-throttle.js';
import { Status } from './respond.js';
import type { UserCors } from './user-cors.js';
import {
  decodeUserBody,
  readUserRequest,
  replyUserError,
  userPostOptions,
} from './user-request.js';

/**
 * POST /v1/ack `{"seq":N}` (protocol.md section 10): the SSE counterpart of
 * the `ack` frame. 204 once checked; 400 when N is not a non-negative
 * integer or is above the user's latestSeq (the stream is not bound to
 * this request, so the user's newest seq is the bound, not one
 * connection's). The ack confirms the user's SSE streams on this edge
 * (delivery metrics) and moves the user's acknowledged position
 * (ctx.ackPositions, as a WebSocket ack does).
 */
export function createUserAckHandler(
  ctx: EdgeContext,
  cors: UserCors,
): (res: HttpResponse, req: HttpRequest) => void {
  const options = userPostOptions(ctx);
  return (res, req) => {
    void readUserRequest(ctx, cors, res, req, options).then(async (request) => {
      if (request === undefined) return;
      const frame = decodeUserBody(res, request, 'ack');
      if (frame === undefined) return;
      const { guard, headers, userId } = request;
      let latestSeq: number;
      try {
        latestSeq = await readLatestSeq(ctx.redis, ctx.keys, userId);
      } catch (error) {
        warnThrottled(ctx.logger, { err: error }, 'ack: reading latestSeq failed');
        const message = 'session store unavailable, retry';
        replyUserError(res, request, Status.unavailable, ErrorCode.Unavailable, message);
        return;
      }
      if (frame.seq > latestSeq) {
        const message = `seq ${frame.seq} is above latestSeq ${latestSeq}`;
        replyUserError(res, request, Status.badRequest, ErrorCode.BadRequest, message);
        return;
      }
      const now = Date.now();
      for (const conn of ctx.registry.get(userId) ?? []) {
        if (conn.transport === 'sse') conn.ack(Math.min(frame.seq, conn.lastSentSeq), now);
      }
      ctx.ackPositions.record(userId, frame.seq);
      if (guard.done) return;
      guard.finish();
      res.cork(() => {
        res.writeStatus('204 No Content');
        for (const [name, value] of Object.entries(headers)) res.writeHeader(name, value);
        res.endWithoutBody();
      });
    });
  };
}
