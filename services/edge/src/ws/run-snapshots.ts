import { CloseCode, ErrorCode } from '@agentwire/protocol';
import { readRun } from '@agentwire/redis';
import type { EdgeContext } from '../edge-context.js';
import { warnThrottled } from '../log-throttle.js';
import type { Connection } from './connection.js';
import { SERVER_ERROR_CLOSE } from './server-error-close.js';
import { trackInFlight } from './in-flight.js';
import { errorFrame, snapshotChunks, snapshotFrame } from './server-frames.js';

/**
 * Reads one run and sends its snapshot on `conn` (the read was announced
 * with beginSnapshotRead or takeOwedSnapshots, so the run's appends are held
 * meanwhile). A failed read closes the connection: the client resumes, and
 * its welcome brings the snapshots of its running runs.
 */
export async function sendRunSnapshot(
  ctx: EdgeContext,
  conn: Connection,
  runId: string,
): Promise<void> {
  try {
    const run = await readRun(ctx.redis, ctx.keys, conn.userId, runId);
    conn.sendSnapshot(runId, snapshotFrame(runId, run), snapshotChunks(run), Date.now());
    ctx.metrics.snapshotsSent.inc();
  } catch (error) {
    warnThrottled(ctx.logger, { err: error, userId: conn.userId }, 'run snapshot read failed');
    conn.end(SERVER_ERROR_CLOSE, 'run store unavailable, resume');
  }
}

/**
 * Sends the snapshots `conn` owes (protocol.md section 9: after dropped
 * appends, "once the connection has room, before any later append of that
 * run"): waits until its send buffer is under the soft limit, reads the
 * owed runs, sends them, and starts over while new ones came meanwhile.
 */
export function serveOwedSnapshots(ctx: EdgeContext, conn: Connection): void {
  const serve = async (): Promise<void> => {
    do {
      await conn.whenWritable();
      if (conn.isClosed) break;
      const runIds = conn.takeOwedSnapshots();
      await Promise.all(runIds.map((runId) => sendRunSnapshot(ctx, conn, runId)));
    } while (conn.finishServingSnapshots());
  };
  void serve();
}

/**
 * A client's `{"type":"sync","runId"}`: exactly one snapshot of that run
 * (status `unknown` when it is not retained). Sync frames share the
 * connection's upstream rate limit (protocol.md section 9).
 */
export function answerSync(ctx: EdgeContext, conn: Connection, runId: string): void {
  const now = Date.now();
  const admission = conn.admitPublish(now);
  if (admission !== 'accept') {
    conn.sendControl(errorFrame(ErrorCode.RateLimited, 'sync rate limit exceeded'), now);
    if (admission === 'close') conn.end(CloseCode.RateLimited, 'rate limit exceeded repeatedly');
    return;
  }
  conn.beginSnapshotRead(runId);
  trackInFlight(ctx, sendRunSnapshot(ctx, conn, runId));
}
