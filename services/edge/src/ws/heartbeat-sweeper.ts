import type { Connection } from './connection.js';
import { heartbeatFrame } from './server-frames.js';

/**
 * Sends `heartbeat` to every welcomed connection that has been sent nothing
 * for `heartbeatMs` (protocol.md 3a: browsers cannot see WebSocket pings).
 * One timer for all sockets; the sweep runs at a quarter of the interval, so
 * a quiet connection hears something within 1.25 heartbeat intervals.
 */
export function startHeartbeatSweeper(
  connections: Iterable<Connection>,
  heartbeatMs: number,
  signal: AbortSignal,
): void {
  const sweepMs = Math.min(5000, Math.max(50, Math.floor(heartbeatMs / 4)));
  const timer = setInterval(() => {
    const now = Date.now();
    let frame: string | undefined;
    for (const conn of connections) {
      if (!conn.isWelcomed || now - conn.lastSendAt < heartbeatMs) continue;
      frame ??= heartbeatFrame(now);
      conn.sendControl(frame, now);
    }
  }, sweepMs);
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
