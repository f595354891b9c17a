import {
  type KeyLayout,
  type RedisClient,
  type UpstreamMessage,
  ensureConsumerGroup,
  parseUpstreamFields,
} from '@agentwire/redis';

export interface UpstreamReaderOptions {
  /** A client of its own: reads block. */
  client: RedisClient;
  keys: KeyLayout;
  /** Consumer group of the agent workers. @default "agents" */
  group?: string;
  consumer: string;
  /** @default 100 */
  count?: number;
}

type StreamReply = Array<[string, Array<[string, string[]]>]> | null;

/**
 * Reads messages users published (protocol section 4) with a consumer group,
 * so several agent workers share the stream and a crashed worker's messages
 * are delivered again. Call `ack` once a message is handled.
 *
 * `messages(signal)` ends as soon as the signal aborts, even while a read is
 * waiting on a Redis that does not answer (paused, restarting): ioredis keeps
 * such a command queued, so the loop races it against the abort rather than
 * waiting for it. A message read but not yet acknowledged stays pending and
 * is delivered again, so nothing is lost by walking away.
 */
export class UpstreamReader {
  private readonly group: string;

  constructor(private readonly options: UpstreamReaderOptions) {
    this.group = options.group ?? 'agents';
  }

  async *messages(signal: AbortSignal): AsyncGenerator<UpstreamMessage & { entryId: string }> {
    const { client, keys, consumer } = this.options;
    const stream = keys.upstream();
    const aborted = abortedPromise(signal);
    const created = ensureConsumerGroup(client, stream, this.group);
    created.catch(() => undefined); // may settle after an abort, when nobody waits for it
    await Promise.race([created, aborted]);
    let cursor = '0';
    while (!signal.aborted) {
      const read = client.xreadgroup(
        'GROUP',
        this.group,
        consumer,
        'COUNT',
        this.options.count ?? 100,
        'BLOCK',
        1000,
        'STREAMS',
        stream,
        cursor,
      );
      read.catch(() => undefined); // may settle after an abort, when nobody waits for it
      const reply = (await Promise.race([read, aborted])) as StreamReply;
      if (signal.aborted) return;
      const entries = reply?.[0]?.[1] ?? [];
      // Pending entries first (cursor "0"), then new ones.
      if (cursor !== '>' && entries.length === 0) cursor = '>';
      for (const [entryId, fields] of entries) {
        const message = parseUpstreamFields(fields);
        if (message) yield { ...message, entryId };
        else await this.ack(entryId);
      }
      if (cursor !== '>' && entries.length > 0) cursor = entries[entries.length - 1]?.[0] ?? cursor;
    }
  }

  async ack(entryId: string): Promise<void> {
    await this.options.client.xack(this.options.keys.upstream(), this.group, entryId);
  }
}

/** Resolves (with null) when the signal aborts; never rejects. */
function abortedPromise(signal: AbortSignal): Promise<null> {
  if (signal.aborted) return Promise.resolve(null);
  return new Promise((resolve) =>
    signal.addEventListener('abort', () => resolve(null), { once: true }),
  );
}
