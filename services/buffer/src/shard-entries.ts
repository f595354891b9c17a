import { IngestField } from '@agentwire/redis';
import type { ShardEntry } from './persist-batch.js';

/** What XREADGROUP / XRANGE return for one stream: [id, [field, value, ...]] pairs. */
export type RawStreamEntries = Array<[string, string[]]>;

/**
 * Turns raw stream entries into shard entries. An entry that lacks a field
 * (written by something other than the edge) is returned in `malformed` so
 * it can be acknowledged and counted instead of blocking the shard forever.
 */
export function parseShardEntries(raw: RawStreamEntries): {
  entries: ShardEntry[];
  malformed: string[];
} {
  const entries: ShardEntry[] = [];
  const malformed: string[] = [];
  for (const [entryId, fields] of raw) {
    let eventId: string | undefined;
    let userId: string | undefined;
    let critical = false;
    let body: string | undefined;
    let runId = '';
    let runKind = '';
    let stream = '';
    let text = '';
    for (let i = 0; i + 1 < fields.length; i += 2) {
      const value = fields[i + 1] as string;
      switch (fields[i]) {
        case IngestField.eventId:
          eventId = value;
          break;
        case IngestField.userId:
          userId = value;
          break;
        case IngestField.critical:
          critical = value === '1';
          break;
        case IngestField.body:
          body = value;
          break;
        case IngestField.runId:
          runId = value;
          break;
        case IngestField.runKind:
          runKind = value;
          break;
        case IngestField.stream:
          stream = value;
          break;
        case IngestField.text:
        case IngestField.stalledAfter:
          text = value;
          break;
      }
    }
    if (eventId && userId && body) {
      entries.push({ entryId, eventId, userId, critical, body, runId, runKind, stream, text });
    }
    else malformed.push(entryId);
  }
  return { entries, malformed };
}
