import { ErrorCode, Limits, validateIngestEvent, type AcceptedEvent } from '@agentwire/protocol';
import { appendToIngest } from '@agentwire/redis';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { EdgeContext } from '../edge-context.js';
import { createBearerCheck } from './bearer.js';
import { BodyTooLargeError, readBody, RequestAbortedError } from './read-body.js';
import { guardRequest, replyJson, Status, type RequestGuard } from './respond.js';

interface ItemError {
  index: number;
  message: string;
}

type Outcome =
  | { status: string; body: unknown; retryAfter?: boolean; closeConnection?: boolean }
  | { accepted: AcceptedEvent[] };

/**
 * POST /v1/events (protocol.md section 6). Answers 202 only after every
 * event of the request is in its ingest stream; a rejected batch appends
 * nothing. Redis unreachable: 503 with Retry-After, never a hang (the ingest
 * client has no offline queue).
 */
export function createIngestHandler(
  ctx: EdgeContext,
): (res: HttpResponse, req: HttpRequest) => void {
  const tokenMatches = createBearerCheck(ctx.env.INGEST_TOKEN);
  const limit = ctx.env.INGEST_MAX_BODY_BYTES;
  const rules = { maxEventBytes: ctx.env.MAX_EVENT_BYTES, criticalNames: ctx.criticalNames };
  const requests = {
    count: (status: string) => ctx.metrics.ingestRequests.labels(status.slice(0, 3)).inc(),
  };

  const answer = (
    res: HttpResponse,
    guard: RequestGuard,
    outcome: Exclude<Outcome, { accepted: AcceptedEvent[] }>,
  ) => {
    requests.count(outcome.status);
    replyJson(res, guard, outcome.status, outcome.body, {
      headers: outcome.retryAfter ? { 'retry-after': '1' } : undefined,
      closeConnection: outcome.closeConnection,
    });
  };

  return (res, req) => {
    const authorization = req.getHeader('authorization');
    const contentLength = req.getHeader('content-length');
    const guard = guardRequest(res);

    if (!tokenMatches(authorization)) {
      answer(res, guard, {
        status: Status.unauthorized,
        body: {
          error: ErrorCode.Unauthorized,
          message: 'expected Authorization: Bearer <INGEST_TOKEN>',
        },
        closeConnection: true,
      });
      return;
    }
    if (contentLength !== '' && Number(contentLength) > limit) {
      answer(res, guard, tooLargeBody(limit));
      return;
    }

    readBody(res, guard, limit)
      .then(async (body) => {
        const outcome = validateBody(body, rules);
        if (!('accepted' in outcome)) {
          answer(res, guard, outcome);
          return;
        }
        if (ctx.ingestRedis.status !== 'ready') {
          answer(res, guard, unavailable());
          return;
        }
        try {
          await appendToIngest(ctx.ingestRedis, ctx.keys, outcome.accepted);
        } catch (error) {
          ctx.logger.warn({ err: error }, 'ingest append failed');
          answer(res, guard, unavailable());
          return;
        }
        ctx.metrics.ingestEvents.inc(outcome.accepted.length);
        answer(res, guard, {
          status: Status.accepted,
          body: { accepted: outcome.accepted.length },
        });
      })
      .catch((error: unknown) => {
        if (error instanceof RequestAbortedError) return;
        if (error instanceof BodyTooLargeError) {
          answer(res, guard, tooLargeBody(limit));
          return;
        }
        ctx.logger.error({ err: error }, 'ingest request failed');
        answer(res, guard, {
          status: Status.internalError,
          body: { error: ErrorCode.Internal, message: 'internal error' },
        });
      });
  };
}

/** Parses and validates the whole request before anything is appended. */
function validateBody(body: Buffer, rules: Parameters<typeof validateIngestEvent>[1]): Outcome {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return badRequest('body is not valid JSON');
  }
  const items: unknown[] = Array.isArray(value) ? value : [value];
  if (items.length === 0) return badRequest('an event batch must hold 1 to 1000 events');
  if (items.length > Limits.maxBatchEvents) {
    return {
      status: Status.payloadTooLarge,
      body: {
        error: ErrorCode.TooLarge,
        message: `a batch holds at most ${Limits.maxBatchEvents} events, got ${items.length}`,
      },
    };
  }
  const now = Date.now();
  const accepted: AcceptedEvent[] = [];
  const errors: ItemError[] = [];
  let tooLarge = false;
  for (let index = 0; index < items.length; index++) {
    const result = validateIngestEvent(items[index], rules, now);
    if (result.ok) {
      accepted.push(result.event);
    } else {
      errors.push({ index, message: result.error });
      tooLarge ||= result.tooLarge === true;
    }
  }
  if (errors.length === 0) return { accepted };
  return tooLarge
    ? { status: Status.payloadTooLarge, body: { error: ErrorCode.TooLarge, errors } }
    : { status: Status.badRequest, body: { error: ErrorCode.BadRequest, errors } };
}

function badRequest(message: string): Outcome {
  return {
    status: Status.badRequest,
    body: { error: ErrorCode.BadRequest, message },
  };
}

function tooLargeBody(limit: number): { status: string; body: unknown; closeConnection: boolean } {
  return {
    status: Status.payloadTooLarge,
    body: { error: ErrorCode.TooLarge, message: `request body exceeds ${limit} bytes` },
    closeConnection: true,
  };
}

function unavailable(): { status: string; body: unknown; retryAfter: boolean } {
  return {
    status: Status.unavailable,
    body: { error: ErrorCode.Unavailable, message: 'event store unreachable, retry' },
    retryAfter: true,
  };
}
