import { decodeHttpBody, ErrorCode, type PublishAcceptedResponse } from '@agentwire/protocol';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { EdgeContext } from '../edge-context.js';
import { replyJson, Status } from './respond.js';
import type { UserCors } from './user-cors.js';
import { UserPublishLimits } from './user-publish-limits.js';
import { readUserRequest } from './user-request.js';

/** Stands for the connection id in upstream entries appended over HTTP. */
const HTTP_SOURCE_ID = 'http';

/**
 * POST /v1/publish (protocol.md section 10): the `publish` frame of section 4
 * without `type`, checked by the same rules (400), rate limited per user on
 * this edge like a connection (429), appended with the same idempotency
 * (a repeated id within UPSTREAM_IDEMPOTENCY_MS is accepted again, appended
 * once). 202 `{"accepted":true,"id"}` only once durable; 503 with
 * Retry-After when the upstream store is unavailable.
 */
export function createUserPublishHandler(
  ctx: EdgeContext,
  cors: UserCors,
): (res: HttpResponse, req: HttpRequest) => void {
  const options = {
    maxBodyBytes: ctx.env.MAX_PAYLOAD,
    bodyTimeoutMs: ctx.env.INGEST_BODY_TIMEOUT_MS,
  };
  const limits = new UserPublishLimits(ctx.connectionShared.limits.publish);
  const rateLimited = ctx.metrics.upstreamRejected.labels(ErrorCode.RateLimited);
  return (res, req) => {
    void readUserRequest(ctx, cors, res, req, options).then(async (request) => {
      if (request === undefined) return;
      const { guard, headers, userId } = request;
      const decoded = decodeHttpBody('publish', request.body);
      if (!decoded.ok || decoded.frame.type !== 'publish') {
        const message = decoded.ok ? 'not a publish' : decoded.error.message;
        replyJson(
          res,
          guard,
          Status.badRequest,
          { error: ErrorCode.BadRequest, message },
          { headers },
        );
        return;
      }
      const frame = decoded.frame;
      if (!limits.admit(userId, Date.now())) {
        rateLimited.inc();
        replyJson(
          res,
          guard,
          Status.tooManyRequests,
          { error: ErrorCode.RateLimited, message: 'publish rate limit exceeded', id: frame.id },
          { headers: { ...headers, 'retry-after': '1' } },
        );
        return;
      }
      try {
        await ctx.upstream.append(userId, HTTP_SOURCE_ID, frame);
      } catch {
        replyJson(
          res,
          guard,
          Status.unavailable,
          {
            error: ErrorCode.Unavailable,
            message: 'upstream store unavailable, retry',
            id: frame.id,
          },
          { headers: { ...headers, 'retry-after': '1' } },
        );
        return;
      }
      const accepted: PublishAcceptedResponse = { accepted: true, id: frame.id };
      replyJson(res, guard, Status.accepted, accepted, { headers });
    });
  };
}
