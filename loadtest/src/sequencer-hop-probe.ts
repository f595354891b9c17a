import { Redis } from 'ioredis';
import { LatencyHistogram } from './latency-histogram.js';
import type { LatencySummary } from './percentile.js';

export interface SequencerHopProbeOptions {
  redisPort: number;
  /** The edges' inbox streams (keys.inbox(nodeId) of each edge). */
  inboxKeys: readonly string[];
  /** How often the inboxes are read. @default 50 */
  pollMs?: number;
}

export interface SequencerHopProbe {
  /** Only events sent at or after this time (ms) count: the phase's warm-up is left out. */
  countFrom(sentAtMs: number): void;
  /** Stops reading; the summary of what was counted. */
  stop(): Promise<LatencySummary>;
}

const SENT_AT = /"sentAt":([\d.]+)/;

/**
 * Where an agentwire event's latency goes: from its POST (the fleet's
 * `data.sentAt`) to the inbox entry the persist script forwarded it in (the
 * entry id's milliseconds, set by Redis when the event was sequenced). The
 * client's receive time minus this is the edge's delivery. Reads every inbox
 * after the last id it saw, so it costs Redis one XRANGE per inbox and poll.
 * An entry id counts whole milliseconds: half a millisecond is added, so the
 * mean is unbiased and any single value is within half a millisecond.
 */
export function startSequencerHopProbe(options: SequencerHopProbeOptions): SequencerHopProbe {
  const client = new Redis({ host: '127.0.0.1', port: options.redisPort });
  client.on('error', () => undefined);
  const histogram = new LatencyHistogram();
  // Per inbox, the last entry id read; reading starts after the newest at start.
  const after = new Map<string, string>();
  let from = Number.POSITIVE_INFINITY;
  let stopped = false;

  const readOnce = async (): Promise<void> => {
    for (const key of options.inboxKeys) {
      const start = after.get(key);
      if (start === undefined) {
        const newest = await client.xrevrange(key, '+', '-', 'COUNT', 1);
        after.set(key, newest[0]?.[0] ?? '0-0');
        continue;
      }
      const entries = await client.xrange(key, `(${start}`, '+', 'COUNT', 10_000);
      const last = entries[entries.length - 1];
      if (last !== undefined) after.set(key, last[0]);
      recordHops(entries, from, histogram);
    }
  };

  const loop = (async () => {
    while (!stopped) {
      try {
        await readOnce();
      } catch {
        // A phase that ends stops the stack: the next poll (if any) tries again.
      }
      await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? 50));
    }
  })();

  return {
    countFrom(sentAtMs) {
      from = sentAtMs;
    },
    async stop() {
      stopped = true;
      await loop;
      await readOnce().catch(() => undefined);
      client.disconnect();
      return histogram.summary();
    },
  };
}

/**
 * Records, for every event of the inbox entries sent at or after `fromMs`,
 * its entry's time (plus half a millisecond) minus its `data.sentAt`.
 */
export function recordHops(
  entries: ReadonlyArray<[id: string, fields: string[]]>,
  fromMs: number,
  histogram: Pick<LatencyHistogram, 'record'>,
): void {
  for (const [id, fields] of entries) {
    const sequencedMs = Number(id.slice(0, id.indexOf('-'))) + 0.5;
    for (let i = 0; i + 1 < fields.length; i += 2) {
      if (fields[i] !== 'f') continue;
      const sentAt = Number(SENT_AT.exec(fields[i + 1] as string)?.[1]);
      if (sentAt >= fromMs) histogram.record(sequencedMs - sentAt);
    }
  }
}
