import type { RedisClient } from '@agentwire/redis';
import type { Logger } from '@agentwire/telemetry';
import type { InboxStreamEntry } from './inbox-dispatcher.js';

export interface InboxReaderOptions {
  /** A dedicated connection: XREAD BLOCK holds it (createBlockingClient). */
  blockingClient: RedisClient;
  /** Any other connection, for XTRIM. */
  trimClient: RedisClient;
  /** keys.inbox(nodeId) */
  key: string;
  /** Where reading starts: see readInboxStartId. */
  startId: string;
  onEntries(entries: readonly InboxStreamEntry[]): void;
  logger: Logger;
  signal: AbortSignal;
  /** @default 1000 */
  count?: number;
  /** @default 5000 */
  blockMs?: number;
  /** Minimum time between two trims of the inbox. @default 1000 */
  trimIntervalMs?: number;
}

export interface InboxReader {
  /** Resolves when the loop has stopped (after the signal aborted). */
  readonly done: Promise<void>;
  /** The id of the last entry handed to onEntries. */
  lastId(): string;
}

/**
 * The id reading starts after: the inbox's newest entry at start-up, read
 * once before the server listens. Entries older than that were meant for
 * sockets of a previous process with this node id, which are gone; entries
 * appended later belong to connections of this process. '0-0' when empty.
 */
export async function readInboxStartId(client: RedisClient, key: string): Promise<string> {
  const newest = await client.xrevrange(key, '+', '-', 'COUNT', 1);
  return newest[0]?.[0] ?? '0-0';
}

const RETRY_MIN_MS = 50;
const RETRY_MAX_MS = 2000;

/**
 * Reads this node's inbox with XREAD BLOCK and hands each batch to
 * onEntries. After a Redis error or reconnect it resumes from the last id it
 * handed over, so nothing is skipped. It trims the inbox up to what it has
 * read (XTRIM MINID ~, at most once per trimIntervalMs), which keeps the
 * stream bounded. Aborting the signal disconnects the blocking client, which
 * ends a pending XREAD at once.
 */
export function startInboxReader(options: InboxReaderOptions): InboxReader {
  const { blockingClient, trimClient, key, logger, signal } = options;
  const count = options.count ?? 1000;
  const blockMs = options.blockMs ?? 5000;
  const trimIntervalMs = options.trimIntervalMs ?? 1000;
  let lastId = options.startId;
  let trimmedTo = lastId;
  let lastTrimAt = 0;

  // A pending XREAD does not always settle on disconnect (ioredis keeps a
  // command queued while it waits to reconnect), so the loop also races it
  // against the abort itself.
  let resolveAborted: (value: null) => void = () => undefined;
  const aborted = new Promise<null>((resolve) => {
    resolveAborted = resolve;
  });
  const onAbort = (): void => {
    resolveAborted(null);
    blockingClient.disconnect();
  };
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });

  const maybeTrim = (): void => {
    const now = Date.now();
    if (lastId === trimmedTo || now - lastTrimAt < trimIntervalMs) return;
    lastTrimAt = now;
    trimmedTo = lastId;
    // MINID keeps the last read entry (ids below it go): harmless, and it
    // keeps the stream's last id visible to readInboxStartId after a restart.
    trimClient.xtrim(key, 'MINID', '~', lastId).catch((error: unknown) => {
      logger.warn({ err: error }, 'inbox trim failed');
    });
  };

  const loop = async (): Promise<void> => {
    let retryMs = RETRY_MIN_MS;
    while (!signal.aborted) {
      try {
        const read = blockingClient.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', key, lastId);
        read.catch(() => undefined); // settled late after an abort: nobody is waiting any more
        const reply = (await Promise.race([read, aborted])) as Array<
          [string, InboxStreamEntry[]]
        > | null;
        if (signal.aborted) break;
        retryMs = RETRY_MIN_MS;
        if (reply !== null) {
          for (const [, entries] of reply) {
            if (entries.length === 0) continue;
            try {
              options.onEntries(entries);
            } catch (error) {
              logger.error({ err: error }, 'inbox dispatch failed');
            }
            lastId = (entries[entries.length - 1] as InboxStreamEntry)[0];
          }
        }
        maybeTrim();
      } catch (error) {
        if (signal.aborted) break;
        logger.warn({ err: error, retryMs }, 'inbox read failed; retrying from the last id');
        await sleep(retryMs, signal);
        retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
      }
    }
  };

  const done = loop().finally(() => signal.removeEventListener('abort', onAbort));
  return { done, lastId: () => lastId };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
