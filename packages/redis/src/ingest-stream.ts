import type { KeyLayout } from './key-layout.js';
import type { RedisClient } from './redis-client.js';

/** Field names of an ingest stream entry. Short: they are stored per event. */
export const IngestField = {
  eventId: 'i',
  userId: 'u',
  critical: 'c',
  body: 'b',
} as const;

/** The part of a validated event that the ingest stream stores. */
export interface IngestEntry {
  id: string;
  userId: string;
  critical: boolean;
  /** Event frame serialised without its opening brace, `type` and `seq`. */
  body: string;
}

/**
 * Appends events to their users' shard streams, in order. Commands issued in
 * one tick share one round trip through auto-pipelining; events of one user
 * go to one shard over one connection, so their order is kept. Resolves once
 * Redis has them all (with appendfsync always, once they are on disk).
 */
export async function appendToIngest(
  client: RedisClient,
  keys: KeyLayout,
  events: readonly IngestEntry[],
): Promise<void> {
  const writes: Array<Promise<unknown>> = new Array(events.length);
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as IngestEntry;
    writes[i] = client.xadd(
      keys.ingest(keys.shardOf(event.userId)),
      '*',
      IngestField.eventId,
      event.id,
      IngestField.userId,
      event.userId,
      IngestField.critical,
      event.critical ? '1' : '0',
      IngestField.body,
      event.body,
    );
  }
  await Promise.all(writes);
}

/** The ingest streams `events` go to, once each (for replicate() on a cluster). */
export function ingestKeysOf(keys: KeyLayout, events: readonly IngestEntry[]): string[] {
  const streams = new Set<string>();
  for (const event of events) streams.add(keys.ingest(keys.shardOf(event.userId)));
  return [...streams];
}
