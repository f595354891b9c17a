import type { EdgeContext } from './edge-context.js';

/**
 * Records that the user processed every critical event up to `seq` (for the
 * "not acknowledged by any connection" webhook). The one path every ack
 * takes, WebSocket `ack` frames and POST /v1/ack alike: positions are kept
 * in memory and written once per ACK_FLUSH_MS (ack-positions.ts), so an ack
 * costs no Redis call of its own.
 */
export function recordUserAck(
  ctx: Pick<EdgeContext, 'ackPositions'>,
  userId: string,
  seq: number,
): void {
  if (seq <= 0) return;
  ctx.ackPositions.record(userId, seq);
}
