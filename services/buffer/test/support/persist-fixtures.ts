import type { PersistSettings, ShardEntry } from '../../src/persist-batch.js';

/** Retention and dedupe windows long enough that nothing expires during a test. */
export const persistSettings: PersistSettings = {
  retentionMs: 60_000,
  retentionMaxEvents: 1000,
  dedupeWindowMs: 60_000,
};

/** An ingest entry as the buffer parses it, with a small event body. */
export function shardEntry(
  entryId: string,
  eventId: string,
  userId: string,
  critical = true,
): ShardEntry {
  return {
    entryId,
    eventId,
    userId,
    critical,
    body: `"id":"${eventId}","critical":${critical},"name":"n","ts":1}`,
  };
}
