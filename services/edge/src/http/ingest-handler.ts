import { isUtf8 } from 'node:buffer';
import { performance } from 'node:perf_hooks';
import { ErrorCode, Limits, validateIngestEvent, type AcceptedEvent } from '@agentwire/protocol';
import {
  appendToIngest,
  connectionGeneration,
  ingestKeysOf,
  replicate,
  ReplicationTimeoutError,
} from '@agentwire/redis';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { EdgeContext } from '../edge-context.js';
import { createBearerCheck, parseBearer } from './bearer.js';
import type { IngestLimits } from './ingest-limits-env.js';
import { IngestRateLimiter, retryAfterSeconds } from './ingest-rate-limiter.js';
import { BodyTimeoutError, BodyTooLargeError, readBody, RequestAbortedError } from './read-body.js';
import { guardRequest, replyJson, Status, type RequestGuard } from './respond.js';
import { warnThrottled } from '../log-throttle.js';

interface ItemError {
  index: number;
  message: string;
}

/** A refusal (or the 202) as it goes on the wire; `retryAfter` in seconds. */
interface Answer {
  status: string;
  body: unknown;
  retryAfter?: number;
  closeConnection?: boolean;
}

type Outcome = Answer | { accepted: AcceptedEvent[] };

/**
 * POST /v1/events (protocol.md section 6). Answers 202 only after every
 * event of the request is in its ingest stream, and with MIN_REPLICAS > 0
 * on that many replicas (else 503: the producer retries with the same ids,
 * which dedupe); a rejected batch appends nothing. Redis unreachable: 503 with Retry-After, never a hang (the ingest
 * client has no offline queue).
 *
 * Hostile input: the body must arrive within INGEST_BODY_TIMEOUT_MS (408),
 * be valid UTF-8 (400) and not content-encoded (415); the Content-Type is
 * not consulted (the body is JSON whatever it says). Events over the token's
 * rate get 429 with Retry-After; a rejected request appends nothing.
 */
export function createIngestHandler(
  ctx: EdgeContext,
  ingestLimits: IngestLimits = ctx.env,
): (res: HttpResponse, req: HttpRequest) => void {
  const tokenMatches = createBearerCheck(ctx.env.INGEST_TOKEN);
  const limit = ctx.env.INGEST_MAX_BODY_BYTES;
  const bodyLimits = { maxBytes: limit, timeoutMs: ingestLimits.INGEST_BODY_TIMEOUT_MS };
  const rateLimiter = new IngestRateLimiter(
    ingestLimits.INGEST_RATE_PER_SEC,
    ingestLimits.INGEST_BURST,
  );
  const rules = {
    maxEventBytes: ctx.env.MAX_EVENT_BYTES,
    criticalNames: ctx.criticalNames,
    runEndNames: ctx.runEndNames,
  };
  const requests = {
    count: (status: string) => ctx.metrics.ingestRequests.labels(status.slice(0, 3)).inc(),
  };

  const answer = (res: HttpResponse, guard: RequestGuard, outcome: Answer) => {
    requests.count(outcome.status);
    replyJson(res, guard, outcome.status, outcome.body, {
      headers:
        outcome.retryAfter === undefined
          ? undefined
          : { 'retry-after': String(outcome.retryAfter) },
      closeConnection: outcome.closeConnection,
    });
  };

  return (res, req) => {
    // uWS frees req when this function returns: copy every header first.
    const authorization = req.getHeader('authorization');
    const contentLength = req.getHeader('content-length');
    const contentEncoding = req.getHeader('content-encoding');
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
    // Only known to pass authentication here, so the key is a configured token.
    const token = parseBearer(authorization) as string;
    if (contentEncoding !== '' && contentEncoding.toLowerCase() !== 'identity') {
      answer(res, guard, unsupportedEncoding(contentEncoding));
      return;
    }
    if (contentLength !== '' && Number(contentLength) > limit) {
      answer(res, guard, tooLargeBody(limit));
      return;
    }
    // An exhausted budget is refused before the body is read.
    const early = rateLimiter.peek(token, performance.now());
    if (!early.ok) {
      answer(res, guard, { ...rateLimited(early.retryAfterMs), closeConnection: true });
      return;
    }

    readBody(res, guard, bodyLimits)
      .then(async (body) => {
        const outcome = validateBody(body, rules);
        if (!('accepted' in outcome)) {
          answer(res, guard, outcome);
          return;
        }
        const decision = rateLimiter.take(token, outcome.accepted.length, performance.now());
        if (!decision.ok) {
          answer(res, guard, rateLimited(decision.retryAfterMs));
          return;
        }
        if (ctx.ingestRedis.status !== 'ready') {
          answer(res, guard, unavailable());
          return;
        }
        try {
          const generation = connectionGeneration(ctx.ingestRedis);
          await appendToIngest(ctx.ingestRedis, ctx.keys, outcome.accepted);
          // MIN_REPLICAS > 0: a 202 only once the events survive the loss of the primary.
          if (ctx.replication.minReplicas > 0) {
            await replicate(ctx.ingestRedis, ctx.replication, {
              keys: ingestKeysOf(ctx.keys, outcome.accepted),
              generation,
            });
          }
        } catch (error) {
          if (error instanceof ReplicationTimeoutError) {
            warnThrottled(ctx.logger, { err: error }, 'ingest not replicated in time');
            answer(res, guard, unavailable('events not replicated in time, retry'));
            return;
          }
          warnThrottled(ctx.logger, { err: error }, 'ingest append failed');
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
        if (error instanceof BodyTimeoutError) {
          answer(res, guard, {
            status: Status.requestTimeout,
            body: { error: ErrorCode.BadRequest, message: error.message },
            closeConnection: true,
          });
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
  // toString would turn invalid bytes into U+FFFD and change the producer's data silently.
  if (!isUtf8(body)) return badRequest('body is not valid UTF-8');
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

function tooLargeBody(limit: number): Answer {
  return {
    status: Status.payloadTooLarge,
    body: { error: ErrorCode.TooLarge, message: `request body exceeds ${limit} bytes` },
    closeConnection: true,
  };
}

function unavailable(message = 'event store unreachable, retry'): Answer {
  return {
    status: Status.unavailable,
    body: { error: ErrorCode.Unavailable, message },
    retryAfter: 1,
  };
}

function rateLimited(retryAfterMs: number): Answer {
  const seconds = retryAfterSeconds(retryAfterMs);
  return {
    status: Status.tooManyRequests,
    body: {
      error: ErrorCode.RateLimited,
      message: `ingest rate limit of this node reached; retry in ${seconds} s`,
    },
    retryAfter: seconds,
  };
}

function unsupportedEncoding(encoding: string): Answer {
  return {
    status: Status.unsupportedMediaType,
    body: {
      error: ErrorCode.BadRequest,
      message: `Content-Encoding "${encoding.slice(0, 32)}" is not supported; send the JSON uncompressed`,
    },
    closeConnection: true,
  };
}
