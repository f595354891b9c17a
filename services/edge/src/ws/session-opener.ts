import { randomBytes } from 'node:crypto';
import { CloseCode, type HelloFrame } from '@agentwire/protocol';
import { openSession, type OpenSessionResult } from '@agentwire/redis';
import type { EdgeContext } from '../edge-context.js';
import { warnThrottled } from '../log-throttle.js';
import type { TokenCheck } from '../jwt-verifier.js';
import type { Connection } from './connection.js';
import { replayThenGoLive } from './replay.js';
import { SERVER_ERROR_CLOSE } from './server-error-close.js';
import { snapshotChunks, snapshotFrame, welcomeFrame } from './server-frames.js';
import { finishRelease } from './session-release.js';

/**
 * Handles an accepted hello: authenticates, registers the connection locally
 * and its route in Redis (openSession registers the route before it reads the
 * log and the snapshots of its runs, atomically), sends welcome and the
 * snapshots, replays, goes live. From the moment the
 * connection is in the registry, inbox events for it are queued, so nothing
 * forwarded after the route registration is missed.
 */
export async function openConnectionSession(
  ctx: EdgeContext,
  conn: Connection,
  hello: HelloFrame,
): Promise<void> {
  const startedAt = performance.now();
  conn.state = 'opening';
  if (conn.helloTimer !== undefined) clearTimeout(conn.helloTimer);
  conn.helloTimer = undefined;

  const auth = await authenticate(ctx, conn, hello.token);
  if (conn.isClosed) return;
  if (!auth.ok) {
    conn.end(CloseCode.Unauthorized, auth.reason);
    return;
  }

  // userId and the registry entry are set together: release() relies on it.
  // The user's other connections lend their copy of the id (one string per
  // user, not per connection).
  conn.userId = ctx.registry.get(auth.userId)?.[0]?.userId ?? auth.userId;
  conn.helloLastSeq = hello.lastSeq ?? 0;
  if (ctx.registry.add(auth.userId, conn)) {
    ctx.redis.sadd(ctx.keys.nodeUsers(ctx.nodeId), auth.userId).catch((error: unknown) => {
      warnThrottled(
        ctx.logger,
        { err: error, userId: auth.userId },
        'SADD of the node user set failed',
      );
    });
  }

  conn.session = 'opening';
  // Redis may be away (commands queue until it is back): do not keep the
  // client waiting for a welcome. If the script runs later, the clean-up
  // below removes the route it registered.
  const slow = setTimeout(() => {
    if (conn.state === 'opening') conn.end(SERVER_ERROR_CLOSE, 'session store unavailable, retry');
  }, ctx.env.HELLO_TIMEOUT_MS);
  let result: OpenSessionResult;
  try {
    result = await ctx.sessionOps.track(auth.userId, () =>
      openSession(ctx.redis, ctx.keys, {
        userId: auth.userId,
        nodeId: ctx.nodeId,
        lastSeq: hello.lastSeq,
        epoch: hello.lastSeq === undefined ? undefined : hello.epoch,
        freshEpoch: randomBytes(6).toString('base64url'),
        retentionMs: ctx.env.RETENTION_MS,
        maxConnectionsPerUser: ctx.env.MAX_CONNECTIONS_PER_USER,
        pageSize: ctx.env.REPLAY_PAGE_SIZE,
        // Routes of nodes whose heartbeat expired do not count toward the limit.
        expiredNodeIds: ctx.expiredNodes.ids(),
      }),
    );
  } catch (error) {
    // Whether the script ran is unknown: leave the route count alone rather
    // than risk removing another live connection's route.
    conn.session = 'none';
    warnThrottled(ctx.logger, { err: error, userId: auth.userId }, 'openSession failed');
    if (conn.isClosed) finishRelease(ctx, conn);
    else conn.end(SERVER_ERROR_CLOSE, 'session store unavailable, retry');
    return;
  } finally {
    clearTimeout(slow);
  }

  conn.session = result.ok ? 'open' : 'none';
  if (conn.isClosed) {
    // The socket closed while the script ran: the close handler left the clean-up to us.
    finishRelease(ctx, conn);
    return;
  }
  if (!result.ok) {
    conn.end(
      CloseCode.LimitReached,
      `too many connections for this user (${result.connections} of ${ctx.env.MAX_CONNECTIONS_PER_USER})`,
    );
    return;
  }

  conn.epoch = siblingCopy(ctx, conn, result.epoch);
  // A live start, a position at or past latestSeq, or one from a lost history
  // all continue after latestSeq; otherwise the replay starts at replayFrom.
  conn.lastSentSeq = result.replayFrom > 0 ? result.replayFrom - 1 : result.latestSeq;
  conn.state = 'replaying';
  const welcome = welcomeFrame({
    connectionId: conn.id,
    node: ctx.nodeId,
    userId: auth.userId,
    epoch: result.epoch,
    latestSeq: result.latestSeq,
    oldestSeq: result.oldestSeq,
    resumed: result.resumed,
    heartbeatMs: ctx.env.HEARTBEAT_MS,
    maxPayload: ctx.env.MAX_PAYLOAD,
  });
  if (!conn.sendControl(welcome, Date.now())) return;
  // Right after welcome, before any replayed event: the running and stalled
  // runs, read atomically with the route registration (open-session-4.lua).
  for (const run of result.runs) {
    const now = Date.now();
    if (!conn.sendSnapshot(run.runId, snapshotFrame(run.runId, run), snapshotChunks(run), now)) {
      return;
    }
    ctx.metrics.snapshotsSent.inc();
  }

  try {
    const replayed = await replayThenGoLive(
      ctx,
      conn,
      result.page,
      result.page.length >= ctx.env.REPLAY_PAGE_SIZE,
    );
    ctx.metrics.replayEvents.observe(replayed);
    ctx.metrics.replayDuration.observe((performance.now() - startedAt) / 1000);
  } catch (error) {
    warnThrottled(ctx.logger, { err: error, userId: auth.userId }, 'replay failed');
    conn.end(SERVER_ERROR_CLOSE, 'replay failed, retry');
  }
}

/** Starts a gap catch-up from the log (the Connection's catchUp hook). */
export function catchUpFromLog(ctx: EdgeContext, conn: Connection): void {
  replayThenGoLive(ctx, conn, [], true).catch((error: unknown) => {
    warnThrottled(ctx.logger, { err: error, userId: conn.userId }, 'catch-up read failed');
    conn.end(SERVER_ERROR_CLOSE, 'replay failed, retry');
  });
}

/** `epoch` as another connection of the user holds it, if one does: one copy per user. */
function siblingCopy(ctx: EdgeContext, conn: Connection, epoch: string): string {
  for (const other of ctx.registry.get(conn.userId) ?? []) {
    if (other !== conn && other.epoch === epoch) return other.epoch;
  }
  return epoch;
}

async function authenticate(
  ctx: EdgeContext,
  conn: Connection,
  token: string | undefined,
): Promise<TokenCheck> {
  if (token === undefined) {
    return conn.preAuthUserId === undefined
      ? { ok: false, reason: 'hello.token required (or Authorization on upgrade)' }
      : { ok: true, userId: conn.preAuthUserId };
  }
  const check = await ctx.jwt.verify(token);
  if (check.ok && conn.preAuthUserId !== undefined && check.userId !== conn.preAuthUserId) {
    return { ok: false, reason: 'hello.token and the upgrade token name different users' };
  }
  return check;
}
