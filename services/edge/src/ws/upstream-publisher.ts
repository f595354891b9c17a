import { CloseCode, ErrorCode, type PublishFrame } from '@agentwire/protocol';
import {
  appendUpstream,
  connectionGeneration,
  replicate,
  type KeyLayout,
  type RedisClient,
  type ReplicationPolicy,
} from '@agentwire/redis';
import type { Logger } from '@agentwire/telemetry';
import { warnThrottled } from '../log-throttle.js';
import type { EdgeMetrics } from '../metrics.js';
import type { Connection } from './connection.js';
import { trackInFlight } from './in-flight.js';
import { acceptedFrame, errorFrame } from './server-frames.js';

export interface UpstreamPublisherOptions {
  /** A client without offline queue: a Redis outage fails the append at once. */
  client: RedisClient;
  keys: KeyLayout;
  /** UPSTREAM_IDEMPOTENCY_MS */
  idempotencyMs: number;
  /** UPSTREAM_MAXLEN */
  maxLen: number;
  metrics: Pick<EdgeMetrics, 'upstreamPublished' | 'upstreamRejected'>;
  logger: Logger;
  /** Appends in flight; shutdown waits for them. */
  inFlight: Set<Promise<void>>;
  /** MIN_REPLICAS / REPLICA_WAIT_MS: `accepted` only once replicated. */
  replication: ReplicationPolicy;
}

export interface UpstreamPublisher {
  /** Handles one `publish` frame of a welcomed connection. */
  publish(conn: Connection, frame: PublishFrame): void;
  /**
   * Appends one message of `userId` (POST /v1/publish: rate limited by the
   * caller); resolves once durable, rejects when the store is unavailable.
   * `sourceId` takes the connection id's place in the upstream entry.
   */
  append(userId: string, sourceId: string, frame: PublishFrame): Promise<void>;
}

/**
 * Upstream messages (protocol.md section 4): rate limit, then an append to
 * the upstream stream tagged with the connection's authenticated user id
 * (never anything from the frame) and connection id. `accepted` is sent only
 * after Redis answered (and MIN_REPLICAS replicas have it), so it means
 * durable; a repeat id within the
 * idempotency window is accepted again without a second entry
 * (publish-upstream-2.lua). A failed append answers `unavailable` with the
 * frame's id and keeps the socket: the client may retry with the same id.
 */
export function createUpstreamPublisher(options: UpstreamPublisherOptions): UpstreamPublisher {
  const { client, keys, metrics, logger, replication } = options;
  const appendOptions = { idempotencyMs: options.idempotencyMs, maxLen: options.maxLen };
  const rejected = {
    rateLimited: metrics.upstreamRejected.labels(ErrorCode.RateLimited),
    unavailable: metrics.upstreamRejected.labels(ErrorCode.Unavailable),
  };

  const unavailable = (conn: Connection, id: string, error?: unknown): void => {
    rejected.unavailable.inc();
    const now = Date.now();
    // A Redis outage must not log once per frame.
    if (error !== undefined) warnThrottled(logger, { err: error }, 'upstream append failed');
    conn.sendControl(
      errorFrame(ErrorCode.Unavailable, 'upstream store unavailable, retry', id),
      now,
    );
  };

  const appendMessage = async (
    userId: string,
    sourceId: string,
    frame: PublishFrame,
  ): Promise<void> => {
    if (client.status !== 'ready') throw new Error('upstream store not connected');
    const generation = connectionGeneration(client);
    const { appended } = await appendUpstream(
      client,
      keys,
      {
        messageId: frame.id,
        userId,
        connectionId: sourceId,
        data: JSON.stringify(frame.data),
        ts: Date.now(),
        ...(frame.threadId !== undefined && { threadId: frame.threadId }),
      },
      appendOptions,
    );
    // Durable means on MIN_REPLICAS replicas too (a no-op when it is 0).
    await replicate(client, replication, { keys: [keys.upstream()], generation });
    if (appended) metrics.upstreamPublished.inc();
  };

  return {
    append: (userId, sourceId, frame) => {
      const work = appendMessage(userId, sourceId, frame);
      trackInFlight(options, work);
      return work.catch((error: unknown) => {
        rejected.unavailable.inc();
        warnThrottled(logger, { err: error }, 'upstream append failed');
        throw error;
      });
    },
    publish(conn, frame) {
      const now = Date.now();
      const admission = conn.admitPublish(now);
      if (admission !== 'accept') {
        rejected.rateLimited.inc();
        conn.sendControl(
          errorFrame(ErrorCode.RateLimited, 'publish rate limit exceeded', frame.id),
          now,
        );
        if (admission === 'close') {
          conn.end(CloseCode.RateLimited, 'publish rate limit exceeded repeatedly');
        }
        return;
      }
      const append = appendMessage(conn.userId, conn.id, frame).then(
        // A no-op when the socket closed meanwhile: the client re-sends the id.
        () => void conn.sendControl(acceptedFrame(frame.id), Date.now()),
        (error: unknown) => unavailable(conn, frame.id, error),
      );
      trackInFlight(options, append);
    },
  };
}
