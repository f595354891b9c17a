import {
  type KeyLayout,
  type RecordAcksResult,
  type RedisClient,
  recordAcks,
} from '@agentwire/redis';

export interface AckPositionsOptions {
  client: RedisClient;
  keys: KeyLayout;
  signal: AbortSignal;
  /** How often the newest positions go to Redis. @default 1000 */
  flushIntervalMs?: number;
}

/**
 * Each user's acknowledged position (the "not acknowledged by any
 * connection" webhook reads it), kept in memory and written at most once
 * per interval per user, in one script call per shard (recordAcks): a
 * tick costs per shard, not per user who acked. An ack frame then costs a
 * map update instead of a script call: the webhook's timing coarsens by at
 * most one interval, which its window (UNACKED_AFTER_MS, 30 s by default)
 * makes invisible.
 */
export class AckPositions {
  /** userId -> highest acked seq not yet written. Bounded by the users acking within one interval. */
  private pending = new Map<string, number>();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly options: AckPositionsOptions) {
    this.timer = setInterval(() => void this.flush(), options.flushIntervalMs ?? 1000);
    options.signal.addEventListener('abort', () => clearInterval(this.timer), { once: true });
  }

  /**
   * Hot path, and the one path of every ack (WebSocket `ack` frame and
   * POST /v1/ack alike): remembers the user's position if it moved forward.
   */
  record(userId: string, seq: number): void {
    if (seq <= 0) return;
    const known = this.pending.get(userId);
    if (known === undefined || seq > known) this.pending.set(userId, seq);
  }

  /**
   * Writes every remembered position; failures are dropped (the next ack
   * writes it again) and cost only the users of the failed call.
   */
  async flush(): Promise<RecordAcksResult> {
    if (this.pending.size === 0) return { moved: 0, failed: 0 };
    const batch = this.pending;
    this.pending = new Map();
    return recordAcks(this.options.client, this.options.keys, batch);
  }
}
