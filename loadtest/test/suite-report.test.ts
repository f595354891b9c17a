import { describe, expect, it } from 'vitest';
import { phaseOf } from '../src/fleet-phase.js';
import type { AppendKind, AppendsRun, KindStep, SystemRun } from '../src/perf-suite-runner.js';
import { MACHINE } from '../src/process-sampler.js';
import {
  compareSystems,
  cpuContext,
  latencyOf,
  suiteCharts,
  suiteMarkdown,
  type SuiteReport,
} from '../src/suite-report.js';
import { fleetResult } from './fleet-result-fixture.js';
import { parseXml } from './xml-tree.js';

function run(
  system: 'agentwire' | 'floor',
  p50: number,
  p99: number,
  highest: number | null,
): SystemRun {
  const fleet = fleetResult(2000);
  fleet.latencyFromSendMs = { ...fleet.latencyFromSendMs, p50, p99 };
  const isFloor = system === 'floor';
  return {
    system,
    pids: [{ name: isFloor ? 'floor' : 'edge-0', pid: 10 }],
    redisVersion: '7.0.15',
    redisPersistence: 'appendonly no, save ""',
    latency: phaseOf(fleet),
    cpu: {
      phase: phaseOf(fleetResult(10_000)),
      cpu: {
        events: 80_000,
        windowSec: 8,
        roles: [
          {
            role: 'redis',
            processes: ['redis'],
            cpuSeconds: 1,
            usPerEvent: isFloor ? 10 : 40,
            wakeUpsPerEvent: 0.5,
          },
          {
            role: isFloor ? 'floor' : 'edge',
            processes: [isFloor ? 'floor' : 'edge-0'],
            cpuSeconds: 1,
            usPerEvent: isFloor ? 30 : 60,
            wakeUpsPerEvent: 0.25,
          },
        ],
        total: { cpuSeconds: 2, usPerEvent: isFloor ? 40 : 100, wakeUpsPerEvent: 0.75 },
      },
    },
    throughput: {
      steps: [
        {
          rate: 2000,
          achievedRate: 2000,
          accepted: 12_000,
          p50Ms: p50,
          p99Ms: p99,
          lost: 0,
          duplicates: 0,
          passed: highest !== null,
          reasons: highest !== null ? [] : ['p99 too high'],
        },
      ],
      highestPassingRate: highest,
      firstFailingRate: highest === null ? 2000 : null,
    },
    samples: [{ name: 'redis', pid: 1, samples: [{ t: 0.5, cpuPercent: 20, rssBytes: 1e7 }] }],
  };
}

function report(runs: SystemRun[]): SuiteReport {
  return {
    kind: 'perf-suite',
    createdAt: '2026-01-01T00:00:00.000Z',
    command: 'npx tsx loadtest/perf-suite.ts',
    machine: { nproc: 2, cpuModel: 'cpu', memoryGiB: 4, node: 'v20', redis: '7', kernel: '6' },
    settings: {},
    results: { runs },
    comparison: compareSystems(runs),
    durationSec: 300,
  };
}

describe('compareSystems', () => {
  it('puts agentwire next to the floor with agentwire/floor ratios', () => {
    const comparison = compareSystems([run('floor', 2, 10, 20_000), run('agentwire', 8, 50, 5000)]);
    expect(comparison.latency).toMatchObject({
      rate: 2000,
      agentwire: { p50: 8, p99: 50 },
      floor: { p50: 2, p99: 10 },
      p50Ratio: 4,
      p99Ratio: 5,
    });
    expect(comparison.throughput).toEqual({ agentwire: 5000, floor: 20_000, ratio: 0.25 });
    expect(comparison.cpu?.agentwire).toEqual({ redis: 40, edge: 60, total: 100 });
    expect(comparison.cpu?.floor).toEqual({ redis: 10, floor: 30, total: 40 });
    expect(comparison.cpu?.totalRatio).toBe(2.5);
  });

  it('has no ratio when a side is missing or passed no rate', () => {
    const comparison = compareSystems([run('floor', 2, 10, null), run('agentwire', 8, 50, 5000)]);
    expect(comparison.throughput).toMatchObject({ agentwire: 5000, floor: null });
    expect(comparison.throughput?.ratio).toBeNaN();
    const alone = compareSystems([run('agentwire', 8, 50, 5000)]);
    expect(alone.latency?.p99Ratio).toBeNaN();
    expect(alone.latency?.floor.p99).toBeNaN();
  });
});

describe('latency rounds', () => {
  const phase = (p50: number, p99: number) => {
    const fleet = fleetResult(2000);
    fleet.latencyFromSendMs = { ...fleet.latencyFromSendMs, p50, p99 };
    return phaseOf(fleet);
  };

  it('compares the medians of p50 and of p99 over the rounds, each a measured value', () => {
    const agentwire = run('agentwire', 8, 50, 5000);
    agentwire.latencyRounds = [
      { phase: phase(3, 40) },
      { phase: phase(2, 60) },
      { phase: phase(5, 20) },
      { phase: phase(4, 30) },
    ];
    expect(latencyOf(agentwire)).toEqual({ p50: 3, p99: 30 });
    const comparison = compareSystems([run('floor', 1, 10, 20_000), agentwire]);
    expect(comparison.latency).toMatchObject({ agentwire: { p50: 3, p99: 30 }, p50Ratio: 3 });
    // One round: that round's figures.
    expect(latencyOf(run('floor', 1, 10, 20_000))).toEqual({ p50: 1, p99: 10 });
  });

  it('lists every round and the sequencing share in the system section', () => {
    const agentwire = run('agentwire', 8, 50, 5000);
    agentwire.latencyRounds = [{ phase: phase(3, 40) }, { phase: phase(2, 60) }];
    agentwire.latencyToSequencedMs = {
      count: 100,
      min: 0.5,
      mean: 1.5,
      p50: 1.2,
      p90: 2,
      p99: 9,
      max: 12,
    };
    const r = report([run('floor', 1, 10, 20_000), agentwire]);
    const md = suiteMarkdown(r, suiteCharts(r));
    expect(md).toContain('p50 / p99 ms: 3.0 / 40.0, 2.0 / 60.0.');
    expect(md).toContain("to the event's sequencing");
    expect(md).toContain('p50 1.2, p90 2.0, p99 9.0, mean 1.5 ms');
  });
});

describe('suite report', () => {
  it('writes the summary rows and a section per system', () => {
    const r = report([run('floor', 2, 10, 20_000), run('agentwire', 8, 50, 5000)]);
    const md = suiteMarkdown(r, suiteCharts(r));
    expect(md).toContain('| p99 latency at 2000/s (ms) | 50.0 | 10.0 | 5.00 |');
    expect(md).toContain('| highest passing rate | 5,000/s | 20,000/s | 0.25 |');
    expect(md).toContain('| CPU µs/event at 10000/s: total | 100.0 | 40.0 | 2.50 |');
    // Per role in each system's section: CPU and wake-ups per event.
    expect(md).toContain('| redis | redis | 1.00 | 40.0 | 0.50 |');
    expect(md).toContain('| total | | 2.00 | 100.0 | 0.75 |');
    expect(md).toContain('## floor');
    expect(md).toContain('## agentwire');
    expect(md).toContain('appendonly no');
  });

  it('draws well-formed SVG plots for latency, the rate search, CPU per event and CPU over time', () => {
    const r = report([run('floor', 2, 10, 20_000), run('agentwire', 8, 50, 5000)]);
    const charts = suiteCharts(r);
    expect(charts.map((chart) => chart.file)).toEqual([
      'latency.svg',
      'rate-search.svg',
      'cpu-per-event.svg',
      'cpu-floor.svg',
      'cpu-agentwire.svg',
    ]);
    for (const chart of charts) expect(parseXml(chart.svg).name).toBe('svg');
  });

  it('puts the system, the load generator and the rest of the machine side by side', () => {
    const agentwire = run('agentwire', 8, 50, 5000);
    const sample = (cpuPercent: number) => ({ t: 1, cpuPercent, rssBytes: 0 });
    agentwire.samples = [
      { name: 'edge-0', pid: 10, samples: [sample(30), sample(50)] },
      { name: 'loadgen', pid: 11, samples: [sample(60)] },
      { name: MACHINE, pid: 0, samples: [sample(180), sample(200)] },
    ];
    expect(cpuContext(agentwire)).toBe(
      'Mean CPU over this run, in % of one core: the system 40, the load generator 60, the whole machine 190 (other work on the host: 90).',
    );
  });

  it('gives the appends part both highest rates, their ratio and every step with its CPU', () => {
    const kindStep = (kind: AppendKind, rate: number, passed: boolean): KindStep => ({
      rate,
      achievedRate: rate,
      accepted: rate * 6,
      p50Ms: 3,
      p99Ms: passed ? 40 : 300,
      lost: 0,
      duplicates: 0,
      passed,
      reasons: passed ? [] : ['p99 300.0 ms is not below 100 ms'],
      kind,
      fromIngestP50Ms: 2,
      fromIngestP99Ms: passed ? 30 : 250,
      cpu: {
        events: rate * 6,
        windowSec: 6,
        roles: [
          {
            role: 'buffer',
            processes: ['buffer-0'],
            cpuSeconds: 1,
            usPerEvent: 12.5,
            wakeUpsPerEvent: 0.1,
          },
        ],
        total: { cpuSeconds: 1, usPerEvent: 12.5, wakeUpsPerEvent: 0.1 },
      },
      nonCritical: {
        clients: 2,
        expected: rate * 6,
        delivered: rate * 6,
        lost: 0,
        duplicates: 0,
        unexpected: 0,
        live: rate * 6,
        bySnapshot: 0,
        snapshots: 0,
        gaps: 0,
        wrongText: 0,
        foreign: 0,
        textMismatches: 0,
        textUnchecked: 0,
      },
    });
    const appends: AppendsRun = {
      pids: [{ name: 'buffer-0', pid: 12 }],
      redisVersion: '7.0.15',
      redisPersistence: 'appendonly no, save ""',
      searches: {
        noncritical: {
          steps: [kindStep('noncritical', 4000, true), kindStep('noncritical', 6000, false)],
          highestPassingRate: 4000,
          firstFailingRate: 6000,
        },
        appends: {
          steps: [kindStep('appends', 4000, false)],
          highestPassingRate: 2000,
          firstFailingRate: 4000,
        },
      },
      ratio: 0.5,
      capacity: {
        events: 30_000,
        offeredRate: 20_000,
        rounds: [
          (['noncritical', 'appends'] as const).map((kind) => ({
            kind,
            accepted: 30_000,
            acceptedRate: 9000,
            sustainedRate: kind === 'appends' ? 4000 : 5000,
            allArrived: true,
            p50Ms: 900,
            p99Ms: 2000,
            cpu: kindStep(kind, 4000, true).cpu,
            passed: true,
            failures: [],
          })),
        ],
        meanRate: { noncritical: 5000, appends: 4000 },
        meanCpuUsPerEvent: { noncritical: 12.5, appends: 12.5 },
        rateRatio: 0.8,
        cpuRatio: 1,
      },
      samples: [],
    };
    const r = report([]);
    r.results.appends = appends;
    const md = suiteMarkdown(r, []);
    expect(md).toContain(
      '| highest passing rate, appends of the same text (one run per user) | 2,000/s | | 0.50 (appends / non-critical) |',
    );
    expect(md).toContain('## Appends against non-critical events');
    expect(md).toContain(
      '| sustained under overload (mean of 1): non-critical / appends | 5000/s / 4000/s | | 0.80 (appends / non-critical) |',
    );
    expect(md).toContain(
      '| 1 | appends | 30000 | 9000 | 4000 | 900.0 | 2000.0 | 12.5 | 12.5 |  | ok |',
    );
    expect(md).toContain(
      '| appends | 4000 | 4000 | 3.0 | 300.0 | 2.0 / 250.0 | 12.5 | 12.5 | 24000 (24000 / 0) | p99 300.0 ms',
    );
    expect(md).toContain(
      '| noncritical | 6000 | 6000 | 3.0 | 300.0 | 2.0 / 250.0 | 12.5 | 12.5 | 36000 | p99',
    );
  });
});
