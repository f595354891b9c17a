import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { numberArg, numberListArg, parseCli, runCli, UsageError } from './src/cli-args.js';
import { guardProcess } from './src/interrupt-guard.js';
import { machineInfo } from './src/machine-info.js';
import {
  DEFAULT_SUITE_PARTS,
  SUITE_PARTS,
  SuiteRunner,
  type SuiteOptions,
} from './src/perf-suite-runner.js';
import { waitForQuietMachine } from './src/quiet-machine.js';
import { reportDirName } from './src/report-writer.js';
import {
  compareSystems,
  suiteCharts,
  suiteMarkdown,
  type SuiteReport,
} from './src/suite-report.js';

const USAGE = `Usage: npx tsx loadtest/perf-suite.ts [options]

The performance suite of issue 8, on private stacks on loopback (each part
starts its own redis-server without persistence and its own services with
production defaults). The fleet parts run against the floor relay
(loadtest/floor-relay.ts: uWS + one Redis stream, no guarantees) and against
agentwire (2 edges, 1 buffer), back to back with the same fleet; ratios are
agentwire / floor. Writes loadtest/reports/<timestamp>/ (report.md,
report.json, SVG plots).
  --parts LIST           any of latency,cpu,throughput,idle,resume,appends
                         (default latency,cpu,throughput,idle,resume)
  --systems LIST         floor,agentwire (default both, in that order)
  --quick                a short smoke version (small fleet, short phases, ~1.5 min)
  --clients N            fleet clients (default 1000)
  --users N              fleet users, clients spread over them round robin (default clients/2:
                         two tabs each; the issue's topology is --users 1000, one connection each)
  --ack-ms MS            client ack interval (default 50)
  --latency-rate R       latency phase rate (default 2000)
  --latency-duration S   (default 10)
  --latency-rounds N     latency phases per system, each on a fresh stack, the systems'
                         order alternating; the report takes the medians (default 3)
  --warmup S             seconds published before the latency phase and each rate step,
                         checked for delivery but not in their latency (default 3; 0..30)
  --cpu-rate R           CPU phase rate (default 10000)
  --cpu-duration S       (default 8)
  --rates LIST           rate search steps, ascending, stop at the first failure
                         (default 1000,2000,5000,10000,15000,20000,25000,30000,40000,50000,60000,80000)
  --step-duration S      publishing seconds per step (default 6)
  --step-grace S         late-delivery grace per step (default 5)
  --refine N             bisection steps after the first failing rate, to 100/s (default 2)
  --idle-connections N   idle connections on one edge (default 10000)
  --kill-clients N       clients over two edges for the SIGKILL storm (default 1000)
  --kill-rate R          critical events/s during the SIGKILL storm (default 2000)
  --kill-duration S      publishing seconds of the SIGKILL storm (default 10; the kill is at 3 s)
  --storm-clients N      clients resuming at once (default 2000)
  --storm-events N       events each of them replays (default 10)
  --append-rates LIST    the appends part (agentwire only): rate search steps for appends (5-20
                         bytes of text each, one run per user) and for plain non-critical events
                         of the same size, interleaved on one stack with the same fleet; steps as
                         --step-duration and --step-grace
                         (default 500,1000,2000,3000,4000,6000,8000,10000,12000,15000,20000)
  --append-refine N      bisection steps per kind after the first failing rate (default 2)
  --append-capacity N    before the search, capacity runs: N events of each kind offered at
                         20,000/s, interleaved; reported is accepted / (last delivery - start)
                         and CPU per event (default 30000; 0: none)
  --append-rounds N      capacity runs per kind (default 2)
  --wait-quiet S         first wait up to S seconds (max 1800) until the machine's CPU stays
                         below 20% for 10 s (other work on a shared host skews every number;
                         each system's section of the report shows how much there was)
  --out DIR              report root (default loadtest/reports)`;

// Every phase is bounded (fleet phases by duration + grace + connect caps); this bounds the whole run.
const OVERALL_CAP_MS = 20 * 60 * 1000;

const FULL = {
  clients: 1000,
  latencyDurationSec: 10,
  latencyRounds: 3,
  warmupSec: 3,
  cpuRate: 10_000,
  cpuDurationSec: 8,
  rates: [1000, 2000, 5000, 10_000, 15_000, 20_000, 25_000, 30_000, 40_000, 50_000, 60_000, 80_000],
  stepDurationSec: 6,
  stepGraceSec: 5,
  refineSteps: 2,
  idleConnections: 10_000,
  killClients: 1000,
  killDurationSec: 10,
  stormClients: 2000,
  appendRates: [500, 1000, 2000, 3000, 4000, 6000, 8000, 10_000, 12_000, 15_000, 20_000],
  appendRefineSteps: 2,
  appendCapacityEvents: 30_000,
};

const QUICK: typeof FULL = {
  clients: 200,
  latencyDurationSec: 3,
  latencyRounds: 1,
  warmupSec: 1,
  cpuRate: 2000,
  cpuDurationSec: 3,
  rates: [1000, 2000, 5000],
  stepDurationSec: 2,
  stepGraceSec: 3,
  refineSteps: 0,
  idleConnections: 1000,
  killClients: 200,
  killDurationSec: 6,
  stormClients: 200,
  appendRates: [500, 1000, 2000],
  appendRefineSteps: 1,
  appendCapacityEvents: 4000,
};

runCli(USAGE, async () => {
  const values = parseCli({
    parts: { type: 'string' },
    systems: { type: 'string' },
    quick: { type: 'boolean' },
    clients: { type: 'string' },
    users: { type: 'string' },
    'ack-ms': { type: 'string' },
    'latency-rate': { type: 'string' },
    'latency-duration': { type: 'string' },
    'latency-rounds': { type: 'string' },
    warmup: { type: 'string' },
    'cpu-rate': { type: 'string' },
    'cpu-duration': { type: 'string' },
    rates: { type: 'string' },
    'step-duration': { type: 'string' },
    'step-grace': { type: 'string' },
    refine: { type: 'string' },
    'idle-connections': { type: 'string' },
    'kill-clients': { type: 'string' },
    'kill-rate': { type: 'string' },
    'kill-duration': { type: 'string' },
    'storm-clients': { type: 'string' },
    'storm-events': { type: 'string' },
    'append-rates': { type: 'string' },
    'append-refine': { type: 'string' },
    'append-capacity': { type: 'string' },
    'append-rounds': { type: 'string' },
    out: { type: 'string' },
    'wait-quiet': { type: 'string' },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const base = values.quick === true ? QUICK : FULL;
  const clients = numberArg(values, 'clients', base.clients, { min: 2, max: 20_000 });
  const options: SuiteOptions = {
    parts: new Set(listArg(values.parts, SUITE_PARTS, 'parts', DEFAULT_SUITE_PARTS)),
    systems: listArg(values.systems, ['floor', 'agentwire'] as const, 'systems'),
    clients,
    users: numberArg(values, 'users', Math.ceil(clients / 2), { min: 1, max: clients }),
    ackIntervalMs: numberArg(values, 'ack-ms', 50, { min: 10, max: 5000 }),
    latencyRate: numberArg(values, 'latency-rate', 2000, { min: 1, max: 200_000 }),
    latencyDurationSec: numberArg(values, 'latency-duration', base.latencyDurationSec, {
      min: 1,
      max: 120,
    }),
    latencyRounds: numberArg(values, 'latency-rounds', base.latencyRounds, { min: 1, max: 9 }),
    warmupSec: numberArg(values, 'warmup', base.warmupSec, { min: 0, max: 30 }),
    cpuRate: numberArg(values, 'cpu-rate', base.cpuRate, { min: 1, max: 200_000 }),
    cpuDurationSec: numberArg(values, 'cpu-duration', base.cpuDurationSec, { min: 1, max: 120 }),
    rates: numberListArg(values, 'rates', base.rates, { min: 1, max: 500_000 }),
    stepDurationSec: numberArg(values, 'step-duration', base.stepDurationSec, { min: 1, max: 60 }),
    stepGraceSec: numberArg(values, 'step-grace', base.stepGraceSec, { min: 1, max: 60 }),
    refineSteps: numberArg(values, 'refine', base.refineSteps, { min: 0, max: 6 }),
    idleConnections: numberArg(values, 'idle-connections', base.idleConnections, {
      min: 1,
      max: 18_000,
    }),
    killClients: numberArg(values, 'kill-clients', base.killClients, { min: 2, max: 10_000 }),
    killRate: numberArg(values, 'kill-rate', 2000, { min: 1, max: 100_000 }),
    killDurationSec: numberArg(values, 'kill-duration', base.killDurationSec, { min: 3, max: 60 }),
    stormClients: numberArg(values, 'storm-clients', base.stormClients, { min: 2, max: 10_000 }),
    stormEventsPerUser: numberArg(values, 'storm-events', 10, { min: 1, max: 1000 }),
    appendRates: numberListArg(values, 'append-rates', base.appendRates, {
      min: 1,
      max: 500_000,
    }),
    appendRefineSteps: numberArg(values, 'append-refine', base.appendRefineSteps, {
      min: 0,
      max: 6,
    }),
    appendCapacityEvents: numberArg(values, 'append-capacity', base.appendCapacityEvents, {
      min: 0,
      max: 400_000,
    }),
    appendCapacityRounds: numberArg(values, 'append-rounds', 2, { min: 1, max: 10 }),
    log: (line) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${line}`),
  };
  const waitQuiet = numberArg(values, 'wait-quiet', 0, { min: 0, max: 1800 });
  if (waitQuiet > 0) {
    const wait = await waitForQuietMachine(20, 10, waitQuiet, options.log);
    options.log(
      wait.quiet
        ? `machine quiet after ${wait.waitedSec.toFixed(0)} s`
        : `machine still busy (${wait.lastBusyPercent.toFixed(0)}%) after ${waitQuiet} s: measuring anyway`,
    );
  }
  const createdAt = new Date();
  const runner = new SuiteRunner(options);
  const unguard = guardProcess(() => runner.stopAll(), OVERALL_CAP_MS);
  try {
    const results = await runner.run();
    const { log: _log, parts, ...settings } = options;
    const report: SuiteReport = {
      kind: 'perf-suite',
      createdAt: createdAt.toISOString(),
      command: `npx tsx loadtest/perf-suite.ts ${process.argv.slice(2).join(' ')}`.trim(),
      machine: machineInfo(
        results.runs[0]?.redisVersion ?? results.appends?.redisVersion ?? 'see the runs',
      ),
      settings: { ...settings, parts: [...parts] },
      results,
      comparison: compareSystems(results.runs),
      durationSec: (Date.now() - createdAt.getTime()) / 1000,
    };
    const root =
      typeof values.out === 'string'
        ? values.out
        : join(dirname(fileURLToPath(import.meta.url)), 'reports');
    const dir = join(root, reportDirName(createdAt));
    await mkdir(dir, { recursive: true });
    const charts = suiteCharts(report);
    await writeFile(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
    const markdown = suiteMarkdown(report, charts);
    await writeFile(join(dir, 'report.md'), markdown);
    await Promise.all(charts.map((chart) => writeFile(join(dir, chart.file), chart.svg)));
    // The title, machine and summary table.
    console.log(markdown.split('\n## ').slice(0, 2).join('\n## '));
    console.log(`report: ${join(dir, 'report.md')}`);
    return 0;
  } finally {
    unguard();
    await runner.stopAll();
  }
});

function listArg<T extends string>(
  raw: string | boolean | undefined,
  allowed: readonly T[],
  name: string,
  fallback: readonly T[] = allowed,
): T[] {
  if (raw === undefined) return [...fallback];
  if (typeof raw !== 'string') throw new UsageError(`--${name} expects a comma-separated list`);
  const items = raw.split(',').map((item) => item.trim());
  for (const item of items) {
    if (!(allowed as readonly string[]).includes(item))
      throw new UsageError(`--${name}: ${item} is not one of ${allowed.join(', ')}`);
  }
  return items as T[];
}
