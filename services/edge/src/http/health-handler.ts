import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { EdgeContext } from '../edge-context.js';
import { guardRequest, replyJson, Status } from './respond.js';

type Handler = (res: HttpResponse, req: HttpRequest) => void;

/** A readiness PING slower than this counts as Redis unreachable. */
const PING_TIMEOUT_MS = 500;

/** GET /healthz: 200 while the process runs. */
export function createHealthHandler(): Handler {
  return (res) => replyJson(res, undefined, Status.ok, { status: 'ok' });
}

/**
 * GET /readyz: 200 when Redis answers and the node is not draining, else 503.
 * A client's `ready` status lags a dead socket by up to one event-loop turn
 * (ioredis updates it on the socket's close callback), so a ready status is
 * confirmed with a PING on the fail-fast ingest connection.
 */
export function createReadyHandler(ctx: EdgeContext): Handler {
  const notReady = (
    res: HttpResponse,
    guard: ReturnType<typeof guardRequest> | undefined,
    status: string,
  ) => replyJson(res, guard, Status.unavailable, { status });
  return (res) => {
    if (ctx.draining) {
      notReady(res, undefined, 'draining');
      return;
    }
    if (ctx.redis.status !== 'ready' || ctx.ingestRedis.status !== 'ready') {
      notReady(res, undefined, 'redis unavailable');
      return;
    }
    const guard = guardRequest(res);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('PING timed out')), PING_TIMEOUT_MS);
    });
    Promise.race([ctx.ingestRedis.ping(), timeout])
      .then(() => {
        if (ctx.draining) notReady(res, guard, 'draining');
        else replyJson(res, guard, Status.ok, { status: 'ready' });
      })
      .catch(() => notReady(res, guard, 'redis unavailable'))
      .finally(() => clearTimeout(timer));
  };
}
