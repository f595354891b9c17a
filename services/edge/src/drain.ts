import type { Connection } from './ws/connection.js';

/**
 * Closes every socket of a stopping node: `reconnect` then 4503, so clients
 * resume on another node. For now every client is told to come back at once
 * (afterMs 0); `reconnectDelay` is the seam where DRAIN_WINDOW_MS will spread
 * them out.
 */
export function drainConnections(
  connections: Iterable<Connection>,
  reconnectDelay: (index: number, total: number) => number = () => 0,
): number {
  // Closing removes a socket from the live set: iterate over a copy.
  const all = [...connections];
  all.forEach((conn, index) =>
    conn.requestReconnect(reconnectDelay(index, all.length), 'node draining'),
  );
  return all.length;
}
