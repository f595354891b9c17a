import { createKeyLayout } from '@agentwire/redis';
import { type Stack, waitUntil } from '@agentwire/testing';
import { expect } from 'vitest';
import { publishLoad } from './load-publisher.js';
import { ResumingSubscriber } from './resuming-subscriber.js';

export interface DeliveryRunOptions {
  users: number;
  eventsPerSecond: number;
  durationMs: number;
  /** Runs once, when this share (0-1) of the events has been accepted. */
  faultAt: number;
  fault: () => Promise<void>;
  /**
   * Accepted events may be lost (MIN_REPLICAS=0 across a failover that drops
   * writes): each subscriber must end with exactly the user's stored history
   * (same epoch, same event at every seq) instead of every accepted event.
   * @default false
   */
  lossAllowed?: boolean;
}

/** The chaos load: 20 users, 500 critical events/s for 10 s, the fault after 30 % of it. */
export const chaosLoad = { users: 20, eventsPerSecond: 500, durationMs: 10_000, faultAt: 0.3 };

export interface DeliveryRunResult {
  accepted: number;
  retries: number;
  /**
   * Longest live-delivery pause: the longest any accepted event waited between
   * its 202 and its arrival at the subscriber.
   */
  longestPauseMs: number;
  subscribers: ResumingSubscriber[];
  /** Welcomes that carried a new epoch, over all subscribers. */
  epochChanges: number;
  /** Users whose subscriber saw an epoch change. */
  usersResynced: number;
  /** Accepted events that are in no user's stored history at the end (lossAllowed only). */
  lostAccepted: number;
}

/**
 * The delivery test of the chaos scenarios: subscribers for every user on
 * alternating edges, a bounded publishing load, one fault in the middle.
 * Afterwards every user must have every accepted event exactly once, in seq
 * order, and no connection may have sent a seq twice.
 */
export async function runDeliveryUnderFault(
  stack: Stack,
  options: DeliveryRunOptions,
): Promise<DeliveryRunResult> {
  const users = Array.from({ length: options.users }, (_, i) => `chaos-${i}`);
  const urls = stack.edges.map((edge) => edge.wsUrl);
  const subscribers = await Promise.all(
    users.map(async (user, i) => {
      const subscriber = new ResumingSubscriber(urls, await stack.token(user), i);
      await subscriber.start();
      return subscriber;
    }),
  );
  const total = (options.eventsPerSecond * options.durationMs) / 1000;
  let faulted: Promise<void> | undefined;
  const load = await publishLoad({
    edges: stack.edges.map((edge) => edge.url),
    ingestToken: stack.env.INGEST_TOKEN as string,
    users,
    eventsPerSecond: options.eventsPerSecond,
    durationMs: options.durationMs,
    batchSize: 10,
    onProgress: (accepted) => {
      if (!faulted && accepted >= total * options.faultAt) faulted = options.fault();
    },
  });
  await faulted;
  let histories = new Map<string, StoredHistory>();
  try {
    if (options.lossAllowed) {
      await waitUntil(
        async () => {
          histories = await readHistories(stack, users);
          return subscribers.every((s, i) => matchesHistory(s, histories.get(users[i] as string)));
        },
        30_000,
        200,
        'every subscriber holding its user stored history',
      );
    } else {
      await waitUntil(
        () =>
          subscribers.every(
            (s, i) =>
              s.received.length >= (load.acceptedByUser.get(users[i] as string)?.length ?? 0),
          ),
        30_000,
        50,
      );
    }
  } finally {
    subscribers.forEach((s) => s.stop());
  }

  let longestPauseMs = 0;
  let lostAccepted = 0;
  subscribers.forEach((subscriber, i) => {
    const accepted = load.acceptedByUser.get(users[i] as string) ?? [];
    if (options.lossAllowed) {
      const stored = histories.get(users[i] as string);
      expect(subscriber.received.map((e) => e.id)).toEqual(stored?.ids);
      const kept = new Set(stored?.ids);
      lostAccepted += accepted.filter((id) => !kept.has(id)).length;
    } else {
      expect(subscriber.received.map((e) => e.seq)).toEqual(accepted.map((_, n) => n + 1));
      expect(subscriber.received.map((e) => e.id)).toEqual(accepted);
    }
    expect(subscriber.duplicatesOnConnection).toBe(0);
    expect(subscriber.droppedNewEvents).toBe(0);
    for (const event of subscriber.received) {
      const acceptedAt = load.acceptedAt.get(event.id) ?? event.at;
      longestPauseMs = Math.max(longestPauseMs, event.at - acceptedAt);
    }
  });
  return {
    accepted: load.accepted,
    retries: load.retries,
    longestPauseMs,
    subscribers,
    epochChanges: subscribers.reduce((sum, s) => sum + s.epochChanges, 0),
    usersResynced: subscribers.filter((s) => s.epochChanges > 0).length,
    lostAccepted,
  };
}

/** A user's history as Redis holds it: the epoch and the event id at each seq from 1. */
interface StoredHistory {
  epoch: string;
  ids: string[];
}

async function readHistories(stack: Stack, users: string[]): Promise<Map<string, StoredHistory>> {
  const keys = createKeyLayout(stack.env.KEY_PREFIX as string, Number(stack.env.SHARDS));
  const client = stack.redis.createClient();
  try {
    const histories = new Map<string, StoredHistory>();
    for (const user of users) {
      const epoch = (await client.hget(keys.userMeta(user), 'epoch')) ?? '';
      const log = await client.xrange(keys.userLog(user), '-', '+');
      const ids = log.map(([, fields]) =>
        String((JSON.parse(fields[1] ?? '{}') as { id?: string }).id),
      );
      histories.set(user, { epoch, ids });
    }
    return histories;
  } finally {
    client.disconnect();
  }
}

function matchesHistory(
  subscriber: ResumingSubscriber,
  stored: StoredHistory | undefined,
): boolean {
  if (stored === undefined || subscriber.currentEpoch !== stored.epoch) return false;
  const ids = subscriber.received.map((event) => event.id);
  return ids.length === stored.ids.length && ids.every((id, n) => id === stored.ids[n]);
}
