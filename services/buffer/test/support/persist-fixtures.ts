import type { PersistSettings, ShardEntry } from '../../src/persist-batch.js';

/** Retention and dedupe windows long enough that nothing expires during a test. */
export const persistSettings: PersistSettings = {
  retentionMs: 60_000,
  retentionMaxEvents: 1000,
  dedupeWindowMs: 60_000,
  runs: { maxBytes: 1_048_576, maxPerUser: 100, ttlMs: 60_000, stallMs: 0 },
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
    runId: '',
    runKind: '',
    stream: '',
    text: '',
  };
}

/** An append of `text` to `stream` of `runId`, as the buffer parses it. */
export function appendEntry(
  entryId: string,
  eventId: string,
  userId: string,
  runId: string,
  stream: string,
  text: string,
): ShardEntry {
  const body = JSON.stringify({ id: eventId, critical: false, name: 'token', runId, stream, append: text, ts: 1 });
  return {
    entryId,
    eventId,
    userId,
    critical: false,
    body: body.slice(1),
    runId,
    runKind: 'a',
    stream,
    text,
  };
}

/** A critical event of a run; `ends` marks a RUN_END_EVENTS name. */
export function runEventEntry(
  entryId: string,
  eventId: string,
  userId: string,
  runId: string,
  ends = false,
): ShardEntry {
  const name = ends ? 'agent_completed' : 'agent_started';
  const body = JSON.stringify({ id: eventId, critical: true, name, runId, ts: 1 });
  return {
    entryId,
    eventId,
    userId,
    critical: true,
    body: body.slice(1),
    runId,
    runKind: ends ? 'e' : '',
    stream: '',
    text: '',
  };
}
