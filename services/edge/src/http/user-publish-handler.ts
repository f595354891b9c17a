import { ErrorCode, type PublishAcceptedResponse } from '@agentwire/protocol';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { EdgeContext } from '../edge-context.js';
import { replyJson, Status } from './respond.js';
import type { UserCors } from './user-cors.js';
import { UserPublishLimits } from './user-publish-limits.js';
import {
  decodeUserBody,
  readUserRequest,
  replyUserError,
  userPostOptions,
} from './user-request.js';

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
  const options = userPostOptions(ctx);
  const limits = new UserPublishLimits(ctx.connectionShared.limits.publish);
  const rateLimited = ctx.metrics.upstreamRejected.labels(ErrorCode.RateLimited);
  return (res, req) => {
    void readUserRequest(ctx, cors, res, req, options).then(async (request) => {
      if (request === undefined) return;
      const frame = decodeUserBody(res, request, 'publish');
      if (frame === undefined) return;
      const id = { id: frame.id };
      if (!limits.admit(request.userId, Date.now())) {
        rateLimited.inc();
        const message = 'publish rate limit exceeded';
        replyUserError(res, request, Status.tooManyRequests, ErrorCode.RateLimited, message, id);
        return;
      }
      try {
        await ctx.upstream.append(request.userId, HTTP_SOURCE_ID, frame);
      } catch {
        const message = 'upstream store unavailable, retry';
        replyUserError(res, request, Status.unavailable, ErrorCode.Unavailable, message, id);
        return;
      }
      const accepted: PublishAcceptedResponse = { accepted: true, id: frame.id };
      replyJson(res, request.guard, Status.accepted, accepted, { headers: request.headers });
    });
  };
}
