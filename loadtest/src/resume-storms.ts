import { signToken } from '@agentwire/testing';
import { FleetPublisher } from './fleet-publisher.js';
import { aggregateDelivery, type DeliveryTotals } from './delivery-ledger.js';
import type { FleetResult } from './fleet-runner.js';
import { runFleet } from './fleet-runner.js';
import { FleetClient } from './fleet-client.js';
import { runTag } from './ingest-event-factory.js';
import { LatencyHistogram } from './latency-histogram.js';
import type { LatencySummary } from './percentile.js';
import { sumMetric } from './prometheus-text.js';
import { sourceAddressPlan } from './source-addresses.js';
import { SUITE_PUBLISHER } from './suite-publisher.js';

export interface StormTarget {
  /** WebSocket URLs of the two edges. */
  wsUrls: readonly string[];
  ingestBaseUrl: string;
  ingestToken: string;
  jwtSecret: string;
  /** Buffer HTTP bases, to wait until published events are sequenced. */
  bufferUrls: readonly string[];
  log?: (line: string) => void;
}

export interface KillStormOptions {
  clients: number;
  users: number;
  /** Critical events/s published throughout. */
  ratePerSec: number;
  /** Seconds of publishing; the kill comes `killAfterSec` into it. */
  durationSec: number;
  killAfterSec: number;
  ackIntervalMs: number;
  /** SIGKILLs the edge whose WebSocket URL is `wsUrls[1]`. */
  killEdge: () => Promise<void>;
}

export interface KillStormResult {
  kind: 'kill-storm';
  clients: number;
  ratePerSec: number;
  /** Clients that were on the killed edge. */
  affected: number;
  /** Affected clients that got an event on their new socket before the run ended. */
  recovered: number;
  /** Kill to the client seeing its socket close, per affected client. */
  killToCloseMs: LatencySummary;
  /** Kill to the welcome on the other edge, per affected client. */
  killToWelcomeMs: LatencySummary;
  /** Kill to the first event received on the new socket (replayed or live), per affected client. */
  killToFirstEventMs: LatencySummary;
  fleet: FleetResult;
}

/**
 * Resume storm (a): a fleet on two edges with events flowing; one edge is
 * SIGKILLed mid-run and its clients fail over to the other (first retry
 * within 100 ms, jittered), resuming from their last seq. Measures kill ->
 * first event on the new socket per affected client, and checks the whole
 * run for loss and duplicates as usual.
 */
export async function runKillStorm(
  target: StormTarget,
  options: KillStormOptions,
): Promise<KillStormResult> {
  const killedUrl = target.wsUrls[1];
  if (killedUrl === undefined) throw new Error('the kill storm needs two edges');
  let killAt = 0;
  let affected: FleetClient[] = [];
  let killTimer: NodeJS.Timeout | undefined;
  let killed: Promise<void> = Promise.resolve();
  const fleet = await runFleet({
    wsUrls: target.wsUrls,
    ingestBaseUrl: target.ingestBaseUrl,
    ingestToken: target.ingestToken,
    jwtSecret: target.jwtSecret,
    clients: options.clients,
    users: options.users,
    ratePerSec: options.ratePerSec,
    durationSec: options.durationSec,
    graceSec: 10,
    ackIntervalMs: options.ackIntervalMs,
    ...SUITE_PUBLISHER,
    ...(target.log ? { log: target.log } : {}),
    onPublishStart: (clients) => {
      killTimer = setTimeout(() => {
        // The kill storm runs WebSocket clients only (runFleet's default transport).
        affected = clients.filter(
          (client): client is FleetClient =>
            client instanceof FleetClient && client.isOpen && client.currentUrl === killedUrl,
        );
        killAt = Date.now();
        target.log?.(`SIGKILL of the edge holding ${affected.length} clients`);
        killed = options.killEdge();
      }, options.killAfterSec * 1000);
    },
  });
  clearTimeout(killTimer);
  await killed;
  const toClose = new LatencyHistogram();
  const toWelcome = new LatencyHistogram();
  const toFirstEvent = new LatencyHistogram();
  let recovered = 0;
  for (const client of affected) {
    if (client.unexpectedCloseAtMs >= killAt) toClose.record(client.unexpectedCloseAtMs - killAt);
    if (client.welcomedAtMs > killAt) toWelcome.record(client.welcomedAtMs - killAt);
    if (client.welcomedAtMs > killAt && client.firstEventAtMs >= client.welcomedAtMs) {
      recovered++;
      toFirstEvent.record(client.firstEventAtMs - killAt);
    }
  }
  return {
    kind: 'kill-storm',
    clients: options.clients,
    ratePerSec: options.ratePerSec,
    affected: affected.length,
    recovered,
    killToCloseMs: toClose.summary(),
    killToWelcomeMs: toWelcome.summary(),
    killToFirstEventMs: toFirstEvent.summary(),
    fleet,
  };
}

export interface ReplayStormOptions {
  clients: number;
  users: number;
  /** Events per user published while nobody is connected; each client replays them. */
  eventsPerUser: number;
  /** Give up waiting for the replays after this long. @default 60 */
  capSec?: number;
}

export interface ReplayStormResult {
  kind: 'replay-storm';
  clients: number;
  users: number;
  eventsPerUser: number;
  /** Seconds until the buffer had sequenced what was published (before the storm). */
  sequencedAfterSec: number;
  /** Clients welcomed. */
  connected: number;
  connectFailed: number;
  /** Every client hello-ing at once (lastSeq 0) until the last one has all its events. */
  totalMs: number;
  /** Per client: storm start to its last replayed event. */
  perClientDoneMs: LatencySummary;
  /** Clients that had every event before the cap. */
  done: number;
  delivery: DeliveryTotals;
  passed: boolean;
}

const PROCESSED_METRIC = 'aw_buffer_events_processed_total';

/**
 * Resume storm (b): `eventsPerUser` critical events are published for every
 * user while no client is connected; once the buffer has sequenced them,
 * every client says hello with lastSeq 0 at the same moment and the storm
 * ends when the last client holds all its events.
 */
export async function runReplayStorm(
  target: StormTarget,
  options: ReplayStormOptions,
): Promise<ReplayStormResult> {
  const log = target.log ?? (() => undefined);
  const tag = runTag();
  const userIds = Array.from({ length: options.users }, (_, i) => `rs-${tag}-u${i}`);
  const tokens = await Promise.all(
    userIds.map((sub) => signToken({ sub, secret: target.jwtSecret, expiresInSec: 3600 })),
  );
  const processedBefore = await processedTotal(target.bufferUrls);
  const events = options.users * options.eventsPerUser;
  const publisher = new FleetPublisher({
    baseUrl: target.ingestBaseUrl,
    token: target.ingestToken,
    users: userIds,
    ratePerSec: Math.min(events, 5000),
    durationSec: events / Math.min(events, 5000),
    tickMs: SUITE_PUBLISHER.publisherTickMs,
    maxBatch: SUITE_PUBLISHER.publisherMaxBatch,
    maxInFlight: SUITE_PUBLISHER.publisherMaxInFlight,
  });
  log(`replay storm: publishing ${events} events for ${options.users} users`);
  const published = await publisher.run();
  const sequencedStart = Date.now();
  const sequenceDeadline = sequencedStart + 30_000;
  while (Date.now() < sequenceDeadline) {
    const processed = await processedTotal(target.bufferUrls);
    if (processed - processedBefore >= published.accepted) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const sequencedAfterSec = (Date.now() - sequencedStart) / 1000;

  const plan = sourceAddressPlan(new URL(target.wsUrls[0] ?? 'ws://x').hostname, 8);
  const doneAt = new Array<number>(options.clients).fill(0);
  let stormStart = 0;
  const clients = Array.from({ length: options.clients }, (_, i) => {
    const userIndex = i % options.users;
    const expected = publisher.acceptedPerUser.get(userIds[userIndex] as string) ?? 0;
    let received = 0;
    return new FleetClient({
      urls: target.wsUrls.map((_, k) => target.wsUrls[(i + k) % target.wsUrls.length] as string),
      userId: userIds[userIndex] as string,
      token: tokens[userIndex] as string,
      ...(plan ? { localAddress: plan(i) } : {}),
      connectTimeoutMs: 30_000,
      onFirstDelivery: () => {
        received++;
        if (received === expected) doneAt[i] = Date.now();
      },
    });
  });
  log(`replay storm: ${options.clients} clients resume at once`);
  stormStart = Date.now();
  const outcomes = await Promise.allSettled(clients.map((client) => client.connect(0)));
  const connected = outcomes.filter((outcome) => outcome.status === 'fulfilled').length;
  const capEnd = stormStart + (options.capSec ?? 60) * 1000;
  const allDone = (): boolean =>
    clients.every(
      (client, i) =>
        doneAt[i] !== 0 ||
        (publisher.acceptedPerUser.get(client.userId) ?? 0) === 0 ||
        outcomes[i]?.status === 'rejected',
    );
  while (!allDone() && Date.now() < capEnd) await new Promise((resolve) => setTimeout(resolve, 5));
  const finished = doneAt.filter((at) => at > 0);
  const totalMs = finished.length > 0 ? Math.max(...finished) - stormStart : Number.NaN;
  const perClient = new LatencyHistogram();
  for (const at of finished) perClient.record(at - stormStart);
  await Promise.all(clients.map((client) => client.close()));
  const { totals } = aggregateDelivery(
    clients.map((client) => ({
      userId: client.userId,
      counts: client.ledger.counts(publisher.acceptedPerUser.get(client.userId) ?? 0),
    })),
  );
  const passed =
    connected === options.clients &&
    finished.length === options.clients &&
    totals.lost === 0 &&
    totals.duplicates === 0 &&
    published.failed === 0;
  return {
    kind: 'replay-storm',
    clients: options.clients,
    users: options.users,
    eventsPerUser: options.eventsPerUser,
    sequencedAfterSec,
    connected,
    connectFailed: options.clients - connected,
    totalMs,
    perClientDoneMs: perClient.summary(),
    done: finished.length,
    delivery: totals,
    passed,
  };
}

async function processedTotal(bufferUrls: readonly string[]): Promise<number> {
  let total = 0;
  for (const url of bufferUrls) {
    try {
      const res = await fetch(new URL('/metrics', url), { signal: AbortSignal.timeout(2000) });
      const value = sumMetric(await res.text(), PROCESSED_METRIC);
      if (Number.isFinite(value)) total += value;
    } catch {
      // an unreachable buffer adds nothing
    }
  }
  return total;
}
