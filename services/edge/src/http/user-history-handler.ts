import { ErrorCode, HISTORY_DEFAULT_LIMIT, HISTORY_MAX_LIMIT } from '@agentwire/protocol';
import { readHistory } from '@agentwire/redis';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { EdgeContext } from '../edge-context.js';
import { warnThrottled } from '../log-throttle.js';
import { reply, Status } from './respond.js';
import type { UserCors } from './user-cors.js';
import { readUserRequest, replyUserError } from './user-request.js';

const INTEGER = /^\d{1,16}$/;
const EPOCH = /^[A-Za-z0-9_-]{1,64}$/;

interface HistoryQuery {
  after: number;
  epoch: string | undefined;
  limit: number;
}

/** after (default 0), epoch (optional), limit (1 to 1000, default 100); a message when malformed. */
export function parseHistoryQuery(query: URLSearchParams): HistoryQuery | string {
  const afterText = query.get('after') ?? '0';
  const limitText = query.get('limit') ?? String(HISTORY_DEFAULT_LIMIT);
  const epoch = query.get('epoch') ?? undefined;
  const after = INTEGER.test(afterText) ? Number(afterText) : Number.NaN;
  if (!Number.isSafeInteger(after)) return 'after must be a non-negative integer';
  const limit = INTEGER.test(limitText) ? Number(limitText) : Number.NaN;
  if (!(limit >= 1 && limit <= HISTORY_MAX_LIMIT)) {
    return `limit must be an integer from 1 to ${HISTORY_MAX_LIMIT}`;
  }
  if (epoch !== undefined && !EPOCH.test(epoch)) {
    return 'epoch must be 1 to 64 characters of [A-Za-z0-9_-]';
  }
  return { after, epoch, limit };
}

/**
 * GET /v1/history?after=N&epoch=E&limit=M (protocol.md section 10): the
 * retained critical events with seq > N, in order, as event frames, with the
 * welcome's position fields (`resumed` by the welcome's rules; another epoch
 * pages from oldestSeq). A consumer pages by passing the last seq it got as
 * `after` until it reaches latestSeq. Frames are copied from the log
 * verbatim, never parsed. A page also stops after the event that brings it
 * to SEND_BUFFER_HARD_BYTES of frames (it always holds at least one event
 * when any is due): 1000 events of 64 KiB would otherwise make one 64 MiB
 * answer.
 */
export function createUserHistoryHandler(
  ctx: EdgeContext,
  cors: UserCors,
): (res: HttpResponse, req: HttpRequest) => void {
  const options = { bodyTimeoutMs: ctx.env.INGEST_BODY_TIMEOUT_MS };
  return (res, req) => {
    void readUserRequest(ctx, cors, res, req, options).then(async (request) => {
      if (request === undefined) return;
      const parsed = parseHistoryQuery(request.query);
      if (typeof parsed === 'string') {
        replyUserError(res, request, Status.badRequest, ErrorCode.BadRequest, parsed);
        return;
      }
      const { after, epoch, limit } = parsed;
      try {
        const maxBytes = ctx.env.SEND_BUFFER_HARD_BYTES;
        const { userId } = request;
        const page = await readHistory(ctx.redis, ctx.keys, userId, after, epoch, limit, maxBytes);
        const head = JSON.stringify({
          epoch: page.epoch,
          oldestSeq: page.oldestSeq,
          latestSeq: page.latestSeq,
          resumed: page.resumed,
        });
        const events = page.events.map((event) => event.frame).join(',');
        const body = `${head.slice(0, -1)},"events":[${events}]}`;
        reply(res, request.guard, Status.ok, 'application/json', body, {
          headers: request.headers,
        });
      } catch (error) {
        warnThrottled(ctx.logger, { err: error }, 'history read failed');
        const message = 'history store unavailable, retry';
        replyUserError(res, request, Status.unavailable, ErrorCode.Unavailable, message);
      }
    });
  };
}
