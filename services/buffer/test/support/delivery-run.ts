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
  try {
    await waitUntil(
      () =>
        subscribers.every(
          (s, i) => s.received.length >= (load.acceptedByUser.get(users[i] as string)?.length ?? 0),
        ),
      30_000,
      50,
    );
  } finally {
    subscribers.forEach((s) => s.stop());
  }

  let longestPauseMs = 0;
  subscribers.forEach((subscriber, i) => {
    const accepted = load.acceptedByUser.get(users[i] as string) ?? [];
    expect(subscriber.received.map((e) => e.seq)).toEqual(accepted.map((_, n) => n + 1));
    expect(subscriber.received.map((e) => e.id)).toEqual(accepted);
    expect(subscriber.duplicatesOnConnection).toBe(0);
    for (const event of subscriber.received) {
      const acceptedAt = load.acceptedAt.get(event.id) ?? event.at;
      longestPauseMs = Math.max(longestPauseMs, event.at - acceptedAt);
    }
  });
  return { accepted: load.accepted, retries: load.retries, longestPauseMs, subscribers };
}
