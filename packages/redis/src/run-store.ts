import type { KeyLayout } from './key-layout.js';
import { Scripts, type ScriptReply } from './lua-script.js';
import type { RedisClient } from './redis-client.js';

/** One text stream of a run as stored: every append with chunk <= chunks is in text. */
export interface RunStreamRecord {
  name: string;
  chunks: number;
  truncated: boolean;
  text: string;
}

/** A run as the scripts read it (read-run-1.lua, open-session-4.lua). */
export interface RunRecord {
  runId: string;
  status: 'running' | 'ended' | 'stalled';
  startedTs: number;
  updatedTs: number;
  streams: RunStreamRecord[];
}

const statuses: ReadonlySet<string> = new Set(['running', 'ended', 'stalled']);

/**
 * Reads `count` run records from a flat script reply starting at `at`:
 * runId, status, started, updated, streamCount, then per stream name,
 * chunks, truncated (1/0), text. Returns them and the index after them.
 */
export function parseRunRecords(
  reply: readonly ScriptReply[],
  at: number,
  count: number,
): { records: RunRecord[]; next: number } {
  const records: RunRecord[] = [];
  for (let r = 0; r < count; r++) {
    const status = String(reply[at + 1]);
    const streamCount = Number(reply[at + 4]);
    const record: RunRecord = {
      runId: String(reply[at]),
      status: statuses.has(status) ? (status as RunRecord['status']) : 'running',
      startedTs: Number(reply[at + 2]),
      updatedTs: Number(reply[at + 3]),
      streams: [],
    };
    at += 5;
    for (let s = 0; s < streamCount; s++, at += 4) {
      record.streams.push({
        name: String(reply[at]),
        chunks: Number(reply[at + 1]),
        truncated: Number(reply[at + 2]) === 1,
        text: String(reply[at + 3]),
      });
    }
    records.push(record);
  }
  return { records, next: at };
}

/** Reads one run of a user; undefined when it is not retained. */
export async function readRun(
  client: RedisClient,
  keys: KeyLayout,
  userId: string,
  runId: string,
): Promise<RunRecord | undefined> {
  const [textBefore, textAfter] = runTextKeyParts(keys, userId, runId);
  const reply = (await Scripts.readRun.run(
    client,
    [keys.run(userId, runId)],
    [runId, textBefore, textAfter],
  )) as ScriptReply[];
  if (reply.length === 0) return undefined;
  return parseRunRecords(reply, 0, 1).records[0];
}

/** The parts of a run's text keys around the stream name. */
export function runTextKeyParts(
  keys: KeyLayout,
  userId: string,
  runId: string,
): [before: string, after: string] {
  const sample = keys.runText(userId, runId, '\n');
  const at = sample.indexOf('\n');
  return [sample.slice(0, at), sample.slice(at + 1)];
}
