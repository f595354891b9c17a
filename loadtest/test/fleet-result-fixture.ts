import type { FleetResult } from '../src/fleet-runner.js';
import { LatencyHistogram } from '../src/latency-histogram.js';

const latency = { count: 10, min: 1, mean: 2, p50: 2, p90: 3, p99: 4, max: 5 };

/** A passing fleet run at `rate` (4 clients, 2 users, 2 s), for report and judging tests. */
export function fleetResult(rate: number): FleetResult {
  const histogram = new LatencyHistogram();
  for (let i = 1; i <= 100; i++) histogram.record(i / 10);
  const zero = {
    expected: 40,
    delivered: 40,
    lost: 0,
    duplicates: 0,
    redelivered: 0,
    outOfOrder: 0,
    unexpected: 0,
    foreign: 0,
  };
  return {
    kind: 'fleet',
    wsUrls: ['ws://127.0.0.1:1/v1/ws'],
    clients: 4,
    users: 2,
    ratePerSec: rate,
    durationSec: 2,
    graceSec: 1,
    startedAt: '2025-01-01T00:00:10.000Z',
    publishStartMs: 1_000_011_000,
    connect: { ok: 4, failed: 0, seconds: 0.1, firstErrors: [], handshakeMs: latency },
    publisher: {
      ratePerSec: rate,
      durationSec: 2,
      scheduled: 20,
      accepted: 20,
      failed: 0,
      requests: 4,
      retries: 0,
      statusCodes: { '202': 4 },
      maxBacklog: 1,
      acceptedPerSecond: [10, 10],
      elapsedSec: 2,
    },
    latencyFromIngestMs: histogram.summary(),
    latencyFromSendMs: latency,
    latencyPercentilesMs: { p50: 5, p75: 7.5, p90: 9, p95: 9.5, p99: 9.9, 'p99.9': 10, p100: 10 },
    latencyDistribution: histogram.distribution(10),
    delivery: { ...zero, users: 2, clients: 4, usersWithProblems: 0 },
    problemUsers: [],
    reconnects: 0,
    resyncs: 0,
    unexpectedCloses: {},
    nonCriticalReceived: 0,
    perSecond: [
      { t: 0, published: 10, delivered: 20, p50: 4, p99: 9 },
      { t: 1, published: 10, delivered: 20, p50: 5, p99: 10 },
    ],
    passed: true,
    failures: [],
  };
}
