import { signToken } from '@agentwire/testing';
import {
  aggregateDelivery,
  hasProblem,
  type DeliveryTotals,
  type UserDelivery,
} from './delivery-ledger.js';
import type { FleetEventKind } from './fleet-events.js';
import { FleetPublisher, type PublisherResult } from './fleet-publisher.js';
import { createFleetClient, type FleetConnection, type FleetTransport } from './fleet-transport.js';
import { runTag } from './ingest-event-factory.js';
import { LatencyHistogram, type HistogramBin } from './latency-histogram.js';
import { LoopDelayProbe, type LoopDelaySummary } from './loop-delay-probe.js';
import {
  nonCriticalFailures,
  sumNonCritical,
  type NonCriticalTotals,
} from './non-critical-ledger.js';
import type { LatencySummary } from './percentile.js';
import { checkRunTexts, type RunTextCheck } from './run-text-check.js';
import { sourceAddressPlan } from './source-addresses.js';

export interface FleetOptions {
  /** Edge WebSocket URLs; clients are spread over them round robin. */
  wsUrls: readonly string[];
  /** Edge HTTP base the publisher posts to. */
  ingestBaseUrl: string;
  ingestToken: string;
  jwtSecret: string;
  clients: number;
  users: number;
  /** WebSocket clients, or SSE streams with acks by POST /v1/ack. @default 'websocket' */
  transport?: FleetTransport;
  /**
   * What is published: critical events (checked by seq), plain non-critical
   * events (by id), or appends to one run per user (by chunk and text).
   * @default 'critical'
   */
  events?: FleetEventKind;
  /** Events per second. */
  ratePerSec: number;
  durationSec: number;
  /**
   * Seconds published at the same rate before `durationSec`: delivered and
   * checked like the rest, but left out of the latency figures (a fresh
   * fleet's users and connections, and each process's JIT, warm up first).
   * @default 0
   */
  warmupSec?: number;
  /** Time after publishing for late deliveries before anything missing counts as lost. */
  graceSec: number;
  /** Spread sockets over this many source addresses 127.0.0.2... (loopback targets only). @default 8 */
  sourceAddresses?: number;
  /** Handshakes in flight while the fleet connects. @default 100 */
  connectConcurrency?: number;
  /** Give up connecting the fleet after this long. @default 120 */
  connectTimeoutSec?: number;
  /** How often clients send their cumulative ack. @default 250 */
  ackIntervalMs?: number;
  /** Resume after unexpected closes. @default true */
  reconnect?: boolean;
  /** The publisher's tick (it sends what is due every tick). @default 10 */
  publisherTickMs?: number;
  /** Most events in one POST. @default 100 */
  publisherMaxBatch?: number;
  /** Most POSTs in flight. @default 8 */
  publisherMaxInFlight?: number;
  /** Called with the connected clients right before publishing starts. */
  onPublishStart?: (clients: readonly FleetConnection[]) => void;
  /** Called once every expected event arrived (or the grace ran out), before the clients close. */
  onSettled?: (clients: readonly FleetConnection[]) => void;
  /** Progress lines go here. */
  log?: (line: string) => void;
}

/** Deliveries and latency in one second of the publishing window. */
export interface FleetSecond {
  t: number;
  published: number;
  delivered: number;
  p50: number;
  p99: number;
}

export interface FleetResult {
  kind: 'fleet';
  wsUrls: string[];
  /** Absent in reports written before SSE fleets existed: websocket. */
  transport?: FleetTransport;
  /** Absent in reports written before non-critical fleets existed: critical. */
  events?: FleetEventKind;
  clients: number;
  users: number;
  ratePerSec: number;
  durationSec: number;
  /** Published before durationSec, not in the latency figures; absent in older reports: 0. */
  warmupSec?: number;
  graceSec: number;
  startedAt: string;
  /** Epoch ms at which publishing started. */
  publishStartMs: number;
  /** Epoch ms of the last first delivery (0 when nothing arrived). */
  lastDeliveryMs?: number;
  /** Every accepted event reached every connection of its user before the grace ended. */
  allArrived?: boolean;
  connect: {
    ok: number;
    failed: number;
    seconds: number;
    firstErrors: string[];
    handshakeMs: LatencySummary;
  };
  publisher: PublisherResult;
  /** Receive time minus the event's ingest `ts` (the edge's clock; same host). */
  latencyFromIngestMs: LatencySummary;
  /** Receive time minus `data.sentAt` (just before the POST). */
  latencyFromSendMs: LatencySummary;
  /**
   * The generator's own event-loop delay from the start of publishing to the
   * end of the grace: part of every latency figure. Absent in older reports.
   */
  generatorLoopDelayMs?: LoopDelaySummary;
  latencyPercentilesMs: Record<string, number>;
  latencyDistribution: HistogramBin[];
  /** Critical events: the seq accounting. Zero expected with other kinds. */
  delivery: DeliveryTotals;
  /** Non-critical events and appends: the id / chunk accounting. */
  nonCritical?: NonCriticalTotals;
  /** Appends: every client's text against the server's snapshot at the end. */
  runTextCheck?: RunTextCheck;
  /** Users with any problem, at most 50. */
  problemUsers: UserDelivery[];
  reconnects: number;
  resyncs: number;
  unexpectedCloses: Record<string, number>;
  nonCriticalReceived: number;
  perSecond: FleetSecond[];
  /** True when every expected event arrived exactly once per connection, in order, to its own user only. */
  passed: boolean;
  /** Why `passed` is false, one line per reason. */
  failures: string[];
}

const PERCENTILES = [50, 75, 90, 95, 99, 99.9, 100];

/**
 * Connects a fleet of authenticated clients, publishes critical events at a
 * fixed rate, and accounts for every one of them on every connection of its
 * user: delivered, lost, duplicated, reordered, foreign. Latency is sampled
 * once per (connection, event), on first delivery.
 */
export async function runFleet(options: FleetOptions): Promise<FleetResult> {
  const log = options.log ?? (() => undefined);
  const tag = runTag();
  const events = options.events ?? 'critical';
  // Appends: one run per user (the same id, a different run for each user).
  const runId = events === 'critical' ? 'fleet' : `run-${tag}`;
  const userIds = Array.from({ length: options.users }, (_, i) => `fl-${tag}-u${i}`);
  const tokens = await Promise.all(
    userIds.map((sub) => signToken({ sub, secret: options.jwtSecret, expiresInSec: 3600 })),
  );

  const fromIngest = new LatencyHistogram();
  const fromSend = new LatencyHistogram();
  const perSecondHist: LatencyHistogram[] = [];
  const deliveredPerSecond: number[] = [];
  let publishStart = 0;
  let lastDelivery = 0;
  const warmupMs = (options.warmupSec ?? 0) * 1000;
  const onFirstDelivery = (ingestMs: number, sendMs: number | undefined): void => {
    lastDelivery = Date.now();
    // Sent during the warm-up: in the per-second figures only.
    const sentAt = lastDelivery - (sendMs ?? ingestMs);
    if (publishStart > 0 && sentAt >= publishStart + warmupMs) {
      fromIngest.record(ingestMs);
      if (sendMs !== undefined) fromSend.record(sendMs);
    }
    if (publishStart === 0) return;
    const second = Math.floor((Date.now() - publishStart) / 1000);
    if (second < 0 || second > 3600) return;
    let hist = perSecondHist[second];
    if (!hist) {
      hist = new LatencyHistogram();
      perSecondHist[second] = hist;
    }
    hist.record(ingestMs);
    deliveredPerSecond[second] = (deliveredPerSecond[second] ?? 0) + 1;
  };

  const plan = sourceAddressPlan(
    new URL(options.wsUrls[0] ?? 'ws://x').hostname,
    options.sourceAddresses ?? 8,
  );
  const clients = Array.from({ length: options.clients }, (_, i) => {
    const userIndex = i % options.users;
    return createFleetClient(options.transport ?? 'websocket', {
      // Start on edge i mod n; a reconnect moves on to the next edge, as a real client fails over.
      urls: options.wsUrls.map((_, k) => options.wsUrls[(i + k) % options.wsUrls.length] as string),
      userId: userIds[userIndex] as string,
      token: tokens[userIndex] as string,
      ...(plan ? { localAddress: plan(i) } : {}),
      reconnect: options.reconnect ?? true,
      onFirstDelivery,
    });
  });

  // Connect with bounded concurrency.
  log(
    `connecting ${options.clients} clients (${options.users} users) to ${options.wsUrls.join(', ')}`,
  );
  const handshake = new LatencyHistogram();
  const connected: FleetConnection[] = [];
  const errors: string[] = [];
  let failed = 0;
  const connectStart = Date.now();
  const connectDeadline = connectStart + (options.connectTimeoutSec ?? 120) * 1000;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < clients.length && Date.now() < connectDeadline) {
      const client = clients[next++] as FleetConnection;
      const started = performance.now();
      try {
        await client.connect();
        handshake.record(performance.now() - started);
        connected.push(client);
      } catch (err) {
        failed++;
        if (errors.length < 5) errors.push(err instanceof Error ? err.message : String(err));
      }
    }
  };
  await Promise.all(Array.from({ length: options.connectConcurrency ?? 100 }, worker));
  // Clients never tried before the deadline count as failed too.
  failed = clients.length - connected.length;
  const connectSeconds = (Date.now() - connectStart) / 1000;
  log(`connected ${connected.length}, failed ${failed}, in ${connectSeconds.toFixed(1)} s`);

  // Publish while acking.
  const ackTimer = setInterval(() => {
    for (const client of connected) client.flushAck();
  }, options.ackIntervalMs ?? 250);
  const publisher = new FleetPublisher({
    events,
    runId,
    baseUrl: options.ingestBaseUrl,
    token: options.ingestToken,
    // Only users with at least one connected client: the others could not receive anything.
    users: [...new Set(connected.map((client) => client.userId))],
    ratePerSec: options.ratePerSec,
    durationSec: (options.warmupSec ?? 0) + options.durationSec,
    ...(options.publisherTickMs === undefined ? {} : { tickMs: options.publisherTickMs }),
    ...(options.publisherMaxBatch === undefined ? {} : { maxBatch: options.publisherMaxBatch }),
    ...(options.publisherMaxInFlight === undefined
      ? {}
      : { maxInFlight: options.publisherMaxInFlight }),
  });
  options.onPublishStart?.(connected);
  const loopDelay = new LoopDelayProbe();
  loopDelay.start();
  publishStart = Date.now();
  const warmup = warmupMs > 0 ? ` after ${options.warmupSec} s of warm-up` : '';
  log(`publishing ${options.ratePerSec} ${events} events/s for ${options.durationSec} s${warmup}`);
  const publisherResult =
    connected.length > 0 ? await publisher.run() : emptyPublisherResult(options);
  log(`published: ${publisherResult.accepted} accepted, ${publisherResult.failed} failed`);

  // Grace: wait for stragglers, but not longer than graceSec.
  const graceEnd = Date.now() + options.graceSec * 1000;
  const expectedOf = (client: FleetConnection): number =>
    publisher.acceptedPerUser.get(client.userId) ?? 0;
  const allArrived = (): boolean =>
    connected.every((client) =>
      events === 'critical'
        ? client.ledger.deliveredCount(expectedOf(client)) >= expectedOf(client)
        : client.nonCriticalLedger.counts(expectedOf(client)).delivered >= expectedOf(client),
    );
  while (Date.now() < graceEnd && !allArrived())
    await new Promise((resolve) => setTimeout(resolve, 100));
  const arrived = allArrived();
  const generatorLoopDelayMs = loopDelay.stop();
  options.onSettled?.(connected);
  for (const client of connected) client.flushAck();
  clearInterval(ackTimer);
  await Promise.all(clients.map((client) => client.close()));

  const { totals, perUser } = aggregateDelivery(
    connected.map((client) => ({
      userId: client.userId,
      counts: client.ledger.counts(events === 'critical' ? expectedOf(client) : 0),
    })),
  );
  let nonCritical: NonCriticalTotals | undefined;
  let runTextCheck: RunTextCheck | undefined;
  if (events !== 'critical') {
    if (events === 'appends') {
      const tokenOf = new Map(userIds.map((userId, i) => [userId, tokens[i] as string]));
      runTextCheck = await checkRunTexts(
        options.ingestBaseUrl,
        runId,
        connected.map((client) => ({
          userId: client.userId,
          token: tokenOf.get(client.userId) as string,
          textOf: (run, stream) => client.nonCriticalLedger.textOf(run, stream),
        })),
      );
      log(
        `run texts: ${runTextCheck.checked} checked against the server, ${runTextCheck.mismatches} differ, ${runTextCheck.unchecked} unchecked`,
      );
    }
    nonCritical = sumNonCritical(
      connected.map((client) => client.nonCriticalLedger.counts(expectedOf(client))),
      runTextCheck?.mismatches ?? 0,
      runTextCheck?.unchecked ?? 0,
    );
  }
  const unexpectedCloses: Record<string, number> = {};
  for (const client of connected) {
    for (const [code, count] of client.unexpectedCloses) {
      unexpectedCloses[String(code)] = (unexpectedCloses[String(code)] ?? 0) + count;
    }
  }
  const publishedPerSecond = publisherResult.acceptedPerSecond;
  const seconds = Math.max(publishedPerSecond.length, deliveredPerSecond.length);
  const perSecond: FleetSecond[] = Array.from({ length: seconds }, (_, t) => ({
    t,
    published: publishedPerSecond[t] ?? 0,
    delivered: deliveredPerSecond[t] ?? 0,
    p50: perSecondHist[t]?.percentile(50) ?? Number.NaN,
    p99: perSecondHist[t]?.percentile(99) ?? Number.NaN,
  }));
  const failures = [
    ...failureReasons(totals, failed, publisherResult.failed),
    ...(nonCritical ? nonCriticalFailures(nonCritical) : []),
  ];
  const latencyPercentilesMs: Record<string, number> = {};
  for (const q of PERCENTILES) latencyPercentilesMs[`p${q}`] = fromIngest.percentile(q);

  return {
    kind: 'fleet',
    wsUrls: [...options.wsUrls],
    transport: options.transport ?? 'websocket',
    events,
    clients: options.clients,
    users: options.users,
    ratePerSec: options.ratePerSec,
    durationSec: options.durationSec,
    warmupSec: options.warmupSec ?? 0,
    graceSec: options.graceSec,
    startedAt: new Date(connectStart).toISOString(),
    publishStartMs: publishStart,
    lastDeliveryMs: lastDelivery,
    allArrived: arrived,
    connect: {
      ok: connected.length,
      failed,
      seconds: connectSeconds,
      firstErrors: errors,
      handshakeMs: handshake.summary(),
    },
    publisher: publisherResult,
    latencyFromIngestMs: fromIngest.summary(),
    latencyFromSendMs: fromSend.summary(),
    generatorLoopDelayMs,
    latencyPercentilesMs,
    latencyDistribution: fromIngest.distribution(30),
    delivery: totals,
    ...(nonCritical ? { nonCritical } : {}),
    ...(runTextCheck ? { runTextCheck } : {}),
    problemUsers: perUser.filter(hasProblem).slice(0, 50),
    reconnects: connected.reduce((sum, client) => sum + client.reconnects, 0),
    resyncs: connected.reduce((sum, client) => sum + client.resyncs, 0),
    unexpectedCloses,
    nonCriticalReceived: connected.reduce((sum, client) => sum + client.nonCritical, 0),
    perSecond,
    passed: failures.length === 0,
    failures,
  };
}

function failureReasons(
  totals: DeliveryTotals,
  connectFailed: number,
  publishFailed: number,
): string[] {
  const reasons: string[] = [];
  if (connectFailed > 0) reasons.push(`${connectFailed} clients failed to connect`);
  if (publishFailed > 0) reasons.push(`${publishFailed} events were not accepted by ingest`);
  if (totals.lost > 0) reasons.push(`${totals.lost} deliveries lost`);
  if (totals.duplicates > 0)
    reasons.push(`${totals.duplicates} duplicate deliveries on one connection`);
  if (totals.outOfOrder > 0) reasons.push(`${totals.outOfOrder} out-of-order deliveries`);
  if (totals.unexpected > 0) reasons.push(`${totals.unexpected} unexpected seqs`);
  if (totals.foreign > 0) reasons.push(`${totals.foreign} events of another user delivered`);
  return reasons;
}

function emptyPublisherResult(options: FleetOptions): PublisherResult {
  return {
    ratePerSec: options.ratePerSec,
    durationSec: options.durationSec,
    scheduled: 0,
    accepted: 0,
    failed: 0,
    requests: 0,
    retries: 0,
    statusCodes: {},
    maxBacklog: 0,
    acceptedPerSecond: [],
    elapsedSec: 0,
  };
}
