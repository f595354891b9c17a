import { recordAck } from '@agentwire/redis';
import type { EdgeContext } from './edge-context.js';

/**
 * Records that the user processed every critical event up to `seq` (for the
 * "not acknowledged by any connection" webhook). The one path every ack
 * takes, WebSocket `ack` frames and POST /v1/ack alike, so how acks are
 * stored can change in one place. Fire and forget: a lost write only delays
 * the webhook's view, and the next ack carries the position again.
 */
export function recordUserAck(
  ctx: Pick<EdgeContext, 'redis' | 'keys'>,
  userId: string,
  seq: number,
): void {
  if (seq <= 0) return;
  recordAck(ctx.redis, ctx.keys, userId, seq).catch(() => undefined);
}
