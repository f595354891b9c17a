import { ErrorCode, Limits } from '@agentwire/protocol';
import { readRun } from '@agentwire/redis';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { EdgeContext } from '../edge-context.js';
import { warnThrottled } from '../log-throttle.js';
import { snapshotFrame } from '../ws/server-frames.js';
import { reply, Status } from './respond.js';
import type { UserCors } from './user-cors.js';
import { readUserRequest, replyUserError } from './user-request.js';

/**
 * GET /v1/runs/{runId} (protocol.md section 10): the run's `snapshot` frame,
 * as a `sync` would get it on a WebSocket, for the token's user only; 404
 * when no such run is retained.
 */
export function createUserRunHandler(
  ctx: EdgeContext,
  cors: UserCors,
): (res: HttpResponse, req: HttpRequest) => void {
  const options = { bodyTimeoutMs: ctx.env.INGEST_BODY_TIMEOUT_MS };
  return (res, req) => {
    // uWS frees req when the handler returns: copy the parameter first.
    const rawRunId = req.getParameter(0) ?? '';
    void readUserRequest(ctx, cors, res, req, options).then(async (request) => {
      if (request === undefined) return;
      const runId = decodeRunId(rawRunId);
      if (runId === undefined) {
        const message = `runId must be 1 to ${Limits.maxRunIdLength} characters, URL-encoded`;
        replyUserError(res, request, Status.badRequest, ErrorCode.BadRequest, message);
        return;
      }
      try {
        const run = await readRun(ctx.redis, ctx.keys, request.userId, runId);
        if (run === undefined) {
          const message = 'no such run is retained';
          replyUserError(res, request, Status.notFound, ErrorCode.NotFound, message);
          return;
        }
        reply(res, request.guard, Status.ok, 'application/json', snapshotFrame(runId, run), {
          headers: request.headers,
        });
      } catch (error) {
        warnThrottled(ctx.logger, { err: error }, 'run read failed');
        const message = 'run store unavailable, retry';
        replyUserError(res, request, Status.unavailable, ErrorCode.Unavailable, message);
      }
    });
  };
}

function decodeRunId(raw: string): string | undefined {
  let runId: string;
  try {
    runId = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  return runId.length >= 1 && runId.length <= Limits.maxRunIdLength ? runId : undefined;
}
