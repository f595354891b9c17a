import { randomBytes } from 'node:crypto';
import type { EdgeContext } from './edge-context.js';
import type { Connection } from './ws/connection.js';
import { disconnectCodeLabel } from './ws/disconnect-code-label.js';
import { releaseConnection } from './ws/session-release.js';

/** A new connection id, unique enough to tell connections apart in logs and upstream entries. */
export function connectionId(): string {
  return `c-${randomBytes(6).toString('base64url')}`;
}

/** A socket or SSE stream opened: it counts from now on (node limit, metrics, drain). */
export function connectionOpened(ctx: EdgeContext, conn: Connection): void {
  ctx.connections.add(conn);
  ctx.metrics.connects.inc();
  ctx.metrics.connections.inc();
}

/** A socket or SSE stream closed (by either side): called once; releases its route. */
export function connectionClosed(ctx: EdgeContext, conn: Connection, code: number): void {
  conn.markClosed();
  if (!ctx.connections.delete(conn)) return;
  ctx.metrics.connections.dec();
  ctx.metrics.disconnects.labels(disconnectCodeLabel(code)).inc();
  releaseConnection(ctx, conn);
}
