import { CloseCode } from '@agentwire/protocol';
import type { EdgeMetrics } from '../metrics.js';
import type { Connection } from './connection.js';

export interface ConnectionSweeperOptions {
  connections: Iterable<Connection>;
  /** ACK_TIMEOUT_MS */
  ackTimeoutMs: number;
  /** ACK_CLOSE_MULTIPLIER; 0 never closes. */
  ackCloseMultiplier: number;
  metrics: Pick<EdgeMetrics, 'acksTimedOut' | 'ackTimeoutCloses' | 'sendBufferHighWater'>;
  signal: AbortSignal;
  /** @default min(1000, max(100, ackTimeoutMs / 2)) */
  intervalMs?: number;
}

/**
 * One pass over every connection, once a second (faster only for short ack
 * timeouts), instead of a timer per event:
 * - counts critical events not acknowledged within ACK_TIMEOUT_MS, each once
 *   (aw_edge_acks_timed_out_total);
 * - closes with 4408 a welcomed connection whose oldest unacknowledged event
 *   is older than ACK_CLOSE_MULTIPLIER x ACK_TIMEOUT_MS. Dead peers are
 *   already closed by uWS (idleTimeout with automatic pings); this catches
 *   the socket that answers pings but whose client stopped processing
 *   (a frozen tab, a stuck handler, a half-open proxy path). 4408 tells the
 *   client to reconnect and resume, which re-sends what it has not acked;
 * - records the largest send buffer seen (aw_edge_send_buffer_high_water_bytes).
 * Cost per sweep: one native getBufferedAmount call and a few comparisons per
 * connection, plus the events newly timed out.
 */
export function startConnectionSweeper(options: ConnectionSweeperOptions): void {
  const { connections, ackTimeoutMs, ackCloseMultiplier, metrics, signal } = options;
  const intervalMs = options.intervalMs ?? Math.min(1000, Math.max(100, ackTimeoutMs / 2));
  const closeAfterMs = ackCloseMultiplier * ackTimeoutMs;
  const toClose: Connection[] = [];
  const timer = setInterval(() => {
    const now = Date.now();
    const timeoutCutoff = now - ackTimeoutMs;
    const closeCutoff = now - closeAfterMs;
    let timedOut = 0;
    let highWater = 0;
    for (const conn of connections) {
      if (!conn.isWelcomed) continue;
      const buffered = conn.bufferedAmount();
      if (buffered > highWater) highWater = buffered;
      timedOut += conn.countAckTimeouts(timeoutCutoff);
      // SSE acks come by POST /v1/ack, possibly to another edge: no ack, no proof of a stuck reader.
      if (closeAfterMs > 0 && conn.transport === 'ws') {
        const oldest = conn.oldestUnackedSentAt();
        if (oldest !== undefined && oldest <= closeCutoff) toClose.push(conn);
      }
    }
    if (timedOut > 0) metrics.acksTimedOut.inc(timedOut);
    metrics.sendBufferHighWater.set(highWater);
    // Closed after the loop: a close removes the connection from the set.
    for (const conn of toClose) {
      metrics.ackTimeoutCloses.inc();
      conn.end(
        CloseCode.SlowConsumer,
        `no ack for ${closeAfterMs} ms: reconnect and resume (ACK_CLOSE_MULTIPLIER x ACK_TIMEOUT_MS)`,
      );
    }
    toClose.length = 0;
  }, intervalMs);
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
