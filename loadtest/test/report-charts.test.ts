import { describe, expect, it } from 'vitest';
import type { FleetResult } from '../src/fleet-runner.js';
import type { IngestBenchResult } from '../src/ingest-benchmark.js';
import { LatencyHistogram } from '../src/latency-histogram.js';
import { PROCESSED_METRIC, reportCharts, slug } from '../src/report-charts.js';
import { reportMarkdown } from '../src/report-markdown.js';
import type { RunReport } from '../src/run-report.js';
import { allElements, parseXml } from './xml-tree.js';

const latency = { count: 10, min: 1, mean: 2, p50: 2, p90: 3, p99: 4, max: 5 };

function ingestResult(batch: number): IngestBenchResult {
  return {
    kind: 'ingest',
    target: 'http://127.0.0.1:1/v1/events',
    connections: 10,
    batchSize: batch,
    criticalShare: 0.2,
    users: 100,
    pipelining: 1,
    rate: null,
    startedAt: '2025-01-01T00:00:00.000Z',
    durationSec: 2,
    requests: { total: 200, perSec: 100, accepted: 200 },
    events: { accepted: 200 * batch, perSec: 100 * batch },
    latencyMs: { p50: 1, p90: 2, p99: 3, max: 4, mean: 1.5 },
    statusCodes: { '202': 200 },
    errors: 0,
    timeouts: 0,
    perSecond: [
      { t: 0, requests: 100, acceptedEvents: 100 * batch },
      { t: 1, requests: 100, acceptedEvents: 100 * batch },
    ],
  };
}

function fleetResult(rate: number): FleetResult {
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

function sampleReport(): RunReport {
  return {
    kind: 'agentwire-loadtest',
    version: 1,
    createdAt: '2025-01-01T00:00:00.000Z',
    originEpochMs: 1_000_000_000,
    mode: 'local',
    command: 'npx tsx loadtest/run-local.ts',
    machine: { nproc: 2, cpuModel: 'cpu', memoryGiB: 4, node: 'v20', redis: '7.0.15', kernel: '6' },
    system: {
      edges: 1,
      buffers: 1,
      redisPersistence: 'none',
      env: { SHARDS: '16', JWT_SECRET: '(generated)' },
    },
    phases: [
      { name: 'ingest batch 1', startSec: 1, endSec: 3, result: ingestResult(1) },
      { name: 'fleet 10/s', startSec: 10, endSec: 14, result: fleetResult(10) },
    ],
    bufferCatchUp: [
      {
        name: 'ingest batch 1',
        phaseStartSec: 1,
        phaseEndSec: 3,
        caughtUpSec: 4,
        processed: 200,
        backlogAtPhaseEnd: 50,
        drained: true,
      },
    ],
    processes: [
      {
        name: 'edge-0',
        pid: 1,
        samples: [
          { t: 1, cpuPercent: 20, rssBytes: 50 * 2 ** 20 },
          { t: 2, cpuPercent: 40, rssBytes: 60 * 2 ** 20 },
        ],
      },
      { name: 'redis', pid: 2, samples: [{ t: 1, cpuPercent: 5, rssBytes: 10 * 2 ** 20 }] },
    ],
    processStats: [],
    metrics: [
      {
        name: 'buffer-0',
        url: 'http://127.0.0.1:2/metrics',
        points: [
          { t: 1, values: { [PROCESSED_METRIC]: 0 } },
          { t: 2, values: { [PROCESSED_METRIC]: 150 } },
        ],
      },
    ],
    passed: true,
    failures: [],
  };
}

describe('reportCharts', () => {
  const charts = reportCharts(sampleReport());

  it('renders every chart as well-formed SVG with a unique file name', () => {
    expect(charts.map((chart) => chart.file)).toEqual([
      'cpu.svg',
      'rss.svg',
      'throughput.svg',
      'fleet-latency-percentiles.svg',
      `latency-histogram-${slug('fleet 10/s')}.svg`,
      'fleet-latency-over-time.svg',
      'ingest-latency.svg',
    ]);
    for (const chart of charts) expect(parseXml(chart.svg).name, chart.file).toBe('svg');
  });

  it('plots one CPU series per process and every throughput source', () => {
    const names = (file: string): string[] => {
      const chart = charts.find((c) => c.file === file);
      return allElements(parseXml(chart?.svg ?? ''))
        .filter((el) => el.attrs.class === 'series')
        .map((el) => el.attrs['data-series'] ?? '');
    };
    expect(names('cpu.svg')).toEqual(['edge-0', 'redis']);
    expect(names('throughput.svg')).toEqual([
      'ingest batch 1: ingest accepted events/s',
      'fleet 10/s: delivered/s',
      'buffer-0: processed events/s',
    ]);
    expect(names('fleet-latency-over-time.svg')).toEqual(['fleet 10/s p50', 'fleet 10/s p99']);
  });

  it('links every chart from report.md', () => {
    const markdown = reportMarkdown(sampleReport(), charts);
    for (const chart of charts) expect(markdown).toContain(`](${chart.file})`);
    expect(markdown).toContain('| ingest batch 1 | 1 | 10 | 2 | 100 | 100 |');
    expect(markdown).toContain('Result: **PASS**');
    expect(markdown).toContain('| ingest batch 1 | 200 | 50 | 1.0 | 67 |');
  });
});
