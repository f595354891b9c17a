import { closeSession } from '@agentwire/redis';
import type { EdgeContext } from '../edge-context.js';
import { warnThrottled } from '../log-throttle.js';
import type { Connection } from './connection.js';
import { trackInFlight } from './in-flight.js';

/**
 * Called once per socket from the close handler: takes the connection out of
 * the registry and, unless openSession is still running (the opener then
 * calls finishRelease when it settles), removes its route.
 */
export function releaseConnection(ctx: EdgeContext, conn: Connection): void {
  if (conn.userId === '') return; // never authenticated: nothing registered
  ctx.registry.remove(conn.userId, conn);
  if (conn.session !== 'opening') finishRelease(ctx, conn);
}

/**
 * Decrements this node's route count for the user (if the route was
 * registered), then drops the user from the node's user set when no local
 * connection of the user is left. Tracked so that shutdown can wait for it.
 */
export function finishRelease(ctx: EdgeContext, conn: Connection): void {
  trackInFlight(ctx, release(ctx, conn));
}

async function release(ctx: EdgeContext, conn: Connection): Promise<void> {
  const userId = conn.userId;
  if (conn.session === 'open') {
    conn.session = 'none';
    try {
      await ctx.sessionOps.track(userId, () =>
        closeSession(ctx.redis, ctx.keys, userId, ctx.nodeId),
      );
    } catch (error) {
      warnThrottled(
        ctx.logger,
        { err: error, userId },
        'closeSession failed; the route is reaped with the node',
      );
    }
  }
  // Checked after the await: a new connection of the user may have arrived meanwhile.
  if (ctx.registry.hasUser(userId)) return;
  try {
    await ctx.redis.srem(ctx.keys.nodeUsers(ctx.nodeId), userId);
  } catch (error) {
    warnThrottled(ctx.logger, { err: error, userId }, 'SREM of the node user set failed');
  }
}
