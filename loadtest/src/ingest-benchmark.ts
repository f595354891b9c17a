import autocannon from 'autocannon';
import { IngestEventFactory, runTag } from './ingest-event-factory.js';

export interface IngestBenchOptions {
  /** Edge HTTP base, e.g. http://127.0.0.1:8080. */
  baseUrl: string;
  /** INGEST_TOKEN of the target. */
  token: string;
  /** Concurrent HTTP connections. */
  connections: number;
  /** Seconds of load (the caller enforces the 120 s cap). */
  durationSec: number;
  /** 1 posts one event object per request; N > 1 posts arrays of N. */
  batchSize: number;
  /** Fraction of critical events, 0..1. */
  criticalShare: number;
  /** Distinct users the events are spread over. */
  users: number;
  /** Stop after this many requests even if time is left. */
  maxRequests?: number;
  /** Fixed request rate (requests/s over all connections); unset means as fast as possible. */
  rate?: number;
  /** Requests in flight per connection. @default 1 */
  pipelining?: number;
  /** Per-request timeout in seconds. @default 10 */
  timeoutSec?: number;
}

export interface LatencyPercentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  mean: number;
}

/** Completed requests and accepted events in one second of the run. */
export interface IngestSecond {
  t: number;
  requests: number;
  acceptedEvents: number;
}

export interface IngestBenchResult {
  kind: 'ingest';
  target: string;
  connections: number;
  batchSize: number;
  criticalShare: number;
  users: number;
  pipelining: number;
  rate: number | null;
  startedAt: string;
  durationSec: number;
  requests: { total: number; perSec: number; accepted: number };
  events: { accepted: number; perSec: number };
  latencyMs: LatencyPercentiles;
  statusCodes: Record<string, number>;
  errors: number;
  timeouts: number;
  perSecond: IngestSecond[];
}

const ACCEPTED = 202;
// Extra time autocannon gets to finish on its own before it is stopped.
const STOP_GRACE_MS = 15_000;

/**
 * Loads POST /v1/events with autocannon. Every request body is built in
 * `setupRequest` from a counter, so every event id is fresh: a repeated id
 * would hit the dedupe path instead of the real one and flatter the numbers.
 */
export async function runIngestBenchmark(options: IngestBenchOptions): Promise<IngestBenchResult> {
  const factory = new IngestEventFactory({
    users: options.users,
    criticalShare: options.criticalShare,
    userPrefix: `lt-${runTag()}-u`,
  });
  const pipelining = options.pipelining ?? 1;
  const target = new URL('/v1/events', options.baseUrl).href;
  const perSecond: IngestSecond[] = [];
  const startedAt = new Date();
  const started = performance.now();

  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: target,
        connections: options.connections,
        duration: options.durationSec,
        pipelining,
        timeout: options.timeoutSec ?? 10,
        ...(options.maxRequests === undefined ? {} : { maxOverallRequests: options.maxRequests }),
        ...(options.rate === undefined ? {} : { overallRate: options.rate }),
        requests: [
          {
            method: 'POST',
            path: '/v1/events',
            headers: {
              authorization: `Bearer ${options.token}`,
              'content-type': 'application/json',
            },
            setupRequest: (request) => {
              request.body = factory.body(options.batchSize);
              return request;
            },
          },
        ],
      },
      (err: unknown, res: autocannon.Result) => {
        clearTimeout(hardStop);
        if (err) reject(err instanceof Error ? err : new Error(String(err)));
        else resolve(res);
      },
    );
    // Hot path: one call per response; only integer bumps.
    instance.on('response', (_client, statusCode) => {
      const second = Math.floor((performance.now() - started) / 1000);
      let bucket = perSecond[second];
      if (!bucket) {
        for (let i = perSecond.length; i <= second; i++)
          perSecond[i] = { t: i, requests: 0, acceptedEvents: 0 };
        bucket = perSecond[second] as IngestSecond;
      }
      bucket.requests++;
      if (statusCode === ACCEPTED) bucket.acceptedEvents += options.batchSize;
    });
    const hardStop = setTimeout(() => instance.stop(), options.durationSec * 1000 + STOP_GRACE_MS);
  });

  const statusCodes: Record<string, number> = {};
  for (const [code, stats] of Object.entries(result.statusCodeStats ?? {}))
    statusCodes[code] = stats.count ?? 0;
  const acceptedRequests = statusCodes[String(ACCEPTED)] ?? 0;
  const durationSec = result.duration;
  const totalRequests = Object.values(statusCodes).reduce((sum, count) => sum + count, 0);
  return {
    kind: 'ingest',
    target,
    connections: options.connections,
    batchSize: options.batchSize,
    criticalShare: options.criticalShare,
    users: options.users,
    pipelining,
    rate: options.rate ?? null,
    startedAt: startedAt.toISOString(),
    durationSec,
    requests: {
      total: totalRequests,
      perSec: totalRequests / durationSec,
      accepted: acceptedRequests,
    },
    events: {
      accepted: acceptedRequests * options.batchSize,
      perSec: (acceptedRequests * options.batchSize) / durationSec,
    },
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.mean,
    },
    statusCodes,
    errors: result.errors,
    timeouts: result.timeouts,
    // The last bucket is a partial second: keep only whole seconds of the run.
    perSecond: perSecond.filter((point) => point.t < Math.floor(durationSec)),
  };
}
