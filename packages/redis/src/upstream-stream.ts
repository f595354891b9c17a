import type { KeyLayout } from './key-layout.js';
import { Scripts, type ScriptReply } from './lua-script.js';
import type { RedisClient } from './redis-client.js';

/** Field names of an upstream stream entry (client -> agents). */
export const UpstreamField = {
  messageId: 'm',
  userId: 'u',
  connectionId: 'c',
  threadId: 't',
  /** JSON text of the message's data. */
  data: 'd',
  ts: 'ts',
} as const;

export interface UpstreamMessage {
  messageId: string;
  userId: string;
  connectionId: string;
  threadId?: string;
  /** JSON text. */
  data: string;
  ts: number;
}

export interface UpstreamAppendOptions {
  idempotencyMs: number;
  maxLen: number;
}

/**
 * Appends a client's message to the upstream stream once per (user, id)
 * within the idempotency window. Resolves with the entry id and whether this
 * call appended it (false: a repeat of an earlier accepted message).
 */
export async function appendUpstream(
  client: RedisClient,
  keys: KeyLayout,
  message: UpstreamMessage,
  options: UpstreamAppendOptions,
): Promise<{ entryId: string; appended: boolean }> {
  const fields: string[] = [
    UpstreamField.messageId,
    message.messageId,
    UpstreamField.userId,
    message.userId,
    UpstreamField.connectionId,
    message.connectionId,
    UpstreamField.data,
    message.data,
    UpstreamField.ts,
    String(message.ts),
  ];
  if (message.threadId !== undefined) fields.push(UpstreamField.threadId, message.threadId);
  const reply = (await Scripts.publishUpstream.run(
    client,
    [keys.upstream(), keys.upstreamIdempotency(message.userId, message.messageId)],
    [options.idempotencyMs, options.maxLen, ...fields],
  )) as ScriptReply[];
  return { entryId: String(reply[0]), appended: reply[1] === 1 };
}

/** Reads an upstream entry from the flat field list a stream read returns. */
export function parseUpstreamFields(fields: readonly string[]): UpstreamMessage | undefined {
  const map = new Map<string, string>();
  for (let i = 0; i + 1 < fields.length; i += 2)
    map.set(fields[i] as string, fields[i + 1] as string);
  const messageId = map.get(UpstreamField.messageId);
  const userId = map.get(UpstreamField.userId);
  const data = map.get(UpstreamField.data);
  if (messageId === undefined || userId === undefined || data === undefined) return undefined;
  const threadId = map.get(UpstreamField.threadId);
  return {
    messageId,
    userId,
    connectionId: map.get(UpstreamField.connectionId) ?? '',
    data,
    ts: Number(map.get(UpstreamField.ts) ?? 0),
    ...(threadId !== undefined && { threadId }),
  };
}
