import { ErrorCode, Limits, type PresenceResponse } from '@agentwire/protocol';
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type { EdgeContext } from '../edge-context.js';
import { createBearerCheck } from './bearer.js';
import { guardRequest, replyJson, Status } from './respond.js';

/**
 * GET /v1/users/{id}/presence with the ingest token. Reads the user's routes
 * (node id -> connection count) and keeps the nodes whose heartbeat is
 * fresher than NODE_TTL_MS: a dead node's routes linger until it is reaped,
 * and must not count. `connections` sums the live nodes' counts.
 */
export function createPresenceHandler(
  ctx: EdgeContext,
): (res: HttpResponse, req: HttpRequest) => void {
  const tokenMatches = createBearerCheck(ctx.env.INGEST_TOKEN);
  return (res, req) => {
    const authorization = req.getHeader('authorization');
    const rawId = req.getParameter(0);
    if (!tokenMatches(authorization)) {
      replyJson(res, undefined, Status.unauthorized, {
        error: ErrorCode.Unauthorized,
        message: 'expected Authorization: Bearer <INGEST_TOKEN>',
      });
      return;
    }
    const userId = decodeUserId(rawId);
    if (userId === undefined) {
      replyJson(res, undefined, Status.badRequest, {
        error: ErrorCode.BadRequest,
        message: 'user id must be 1 to 128 characters of [A-Za-z0-9._:@-]',
      });
      return;
    }
    const guard = guardRequest(res);
    readPresence(ctx, userId)
      .then((presence) => replyJson(res, guard, Status.ok, presence))
      .catch((error: unknown) => {
        ctx.logger.warn({ err: error }, 'presence read failed');
        replyJson(
          res,
          guard,
          Status.unavailable,
          { error: ErrorCode.Unavailable, message: 'presence store unreachable, retry' },
          { headers: { 'retry-after': '1' } },
        );
      });
  };
}

async function readPresence(ctx: EdgeContext, userId: string): Promise<PresenceResponse> {
  const routes = await ctx.redis.hgetall(ctx.keys.userRoutes(userId));
  const nodeIds = Object.keys(routes);
  if (nodeIds.length === 0) return { userId, connections: 0, nodes: [] };
  const beats = await ctx.redis.zmscore(ctx.keys.nodes(), ...nodeIds);
  const freshSince = Date.now() - ctx.env.NODE_TTL_MS;
  const nodes: string[] = [];
  let connections = 0;
  nodeIds.forEach((nodeId, index) => {
    const beat = beats[index];
    const count = Number(routes[nodeId]);
    if (beat === null || beat === undefined || Number(beat) < freshSince || !(count > 0)) return;
    nodes.push(nodeId);
    connections += count;
  });
  nodes.sort();
  return { userId, connections, nodes };
}

function decodeUserId(raw: string): string | undefined {
  let userId: string;
  try {
    userId = decodeURIComponent(raw);
  } catch {
    return undefined;
  }
  return Limits.userIdPattern.test(userId) ? userId : undefined;
}
