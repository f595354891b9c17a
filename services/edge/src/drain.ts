import { CloseCode } from '@agentwire/protocol';
import type { Connection } from './ws/connection.js';

/**
 * Reconnect delays for `total` connections, spread uniformly over
 * [0, windowMs): connection i gets a random point of the i-th of `total`
 * equal slots (stratified jitter). Unlike independent uniform draws, every
 * part of the window gets its share even for a handful of connections, so
 * the load on the other nodes rises evenly. Ascending in i.
 */
export function spreadReconnectDelays(
  total: number,
  windowMs: number,
  random: () => number = Math.random,
): number[] {
  const slot = total > 0 ? windowMs / total : 0;
  return Array.from({ length: total }, (_, i) =>
    Math.min(Math.max(0, windowMs - 1), Math.floor((i + random()) * slot)),
  );
}

/** What the drain needs of a connection. */
export type DrainableConnection = Pick<Connection, 'announceReconnect' | 'end'>;

/**
 * The spread-out drain of a stopping node (architecture: "edge SIGTERM").
 * Every open connection is sent `{"type":"reconnect","afterMs":N}` at once,
 * with N spread over DRAIN_WINDOW_MS, and stays open, still receiving live
 * events, until N; then it is closed with 4503.
 *
 * Why close at N rather than right after the frame: the node itself paces
 * the reconnects, so they are spread even for clients that ignore afterMs
 * (a client reconnects about 100 ms after a close), and a client that honours
 * afterMs (the SDK keeps reading until then) misses nothing in the meantime.
 * The node is not ready and no longer listens, so nothing new arrives.
 *
 * Resolves with the number of connections once the last one is closed
 * (about windowMs after the call).
 */
export function drainConnections(
  connections: Iterable<DrainableConnection>,
  windowMs: number,
  random: () => number = Math.random,
): Promise<number> {
  // Closing removes a socket from the live set: work on a copy.
  const all = [...connections];
  const delays = spreadReconnectDelays(all.length, windowMs, random);
  const startedAt = Date.now();
  all.forEach((conn, i) => conn.announceReconnect(delays[i] as number));
  return new Promise((resolve) => {
    let next = 0;
    const closeDue = (): void => {
      const elapsed = Date.now() - startedAt;
      while (next < all.length && (delays[next] as number) <= elapsed) {
        (all[next] as DrainableConnection).end(CloseCode.Draining, 'node draining');
        next++;
      }
      if (next >= all.length) resolve(all.length);
      else setTimeout(closeDue, (delays[next] as number) - elapsed);
    };
    closeDue();
  });
}
