import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { EdgeContext } from '../edge-context.js';
import { replyJson, Status } from './respond.js';

type Handler = (res: HttpResponse, req: HttpRequest) => void;

/** GET /healthz: 200 while the process runs. */
export function createHealthHandler(): Handler {
  return (res) => replyJson(res, undefined, Status.ok, { status: 'ok' });
}

/** GET /readyz: 200 when Redis is reachable and the node is not draining, else 503. */
export function createReadyHandler(ctx: EdgeContext): Handler {
  return (res) => {
    const redisReady = ctx.redis.status === 'ready' && ctx.ingestRedis.status === 'ready';
    if (redisReady && !ctx.draining) {
      replyJson(res, undefined, Status.ok, { status: 'ready' });
      return;
    }
    replyJson(res, undefined, Status.unavailable, {
      status: ctx.draining ? 'draining' : 'redis unavailable',
    });
  };
}
