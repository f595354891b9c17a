import { runFleet } from './fleet-runner.js';
import type { FleetTransport } from './fleet-transport.js';
import { runIngestBenchmark } from './ingest-benchmark.js';
import { machineInfo } from './machine-info.js';
import { MetricsPoller } from './metrics-poller.js';
import { processStatsByPhase } from './phase-stats.js';
import { ProcessSampler } from './process-sampler.js';
import { PROCESSED_METRIC } from './report-charts.js';
import { isFleet, type BufferCatchUp, type ReportPhase, type RunReport } from './run-report.js';

/** Where the scenario sends load; run-local builds this from its own stack or from --target. */
export interface ScenarioSystem {
  /** Edge HTTP bases; ingest goes to the first, fleet clients spread over all. */
  edgeUrls: string[];
  /** Edge WebSocket URLs, same order. */
  wsUrls: string[];
  ingestToken: string;
  jwtSecret: string;
  /** Buffer HTTP bases, scraped for the processed-events counter (may be empty). */
  bufferUrls: string[];
  /** Processes to sample. */
  pids: Array<{ name: string; pid: number }>;
  redisVersion: string;
  description: RunReport['system'];
}

export interface ScenarioOptions {
  mode: RunReport['mode'];
  command: string;
  ingest: {
    batches: number[];
    connections: number;
    durationSec: number;
    criticalShare: number;
    users: number;
  };
  fleet: {
    clients: number;
    users: number;
    rates: number[];
    durationSec: number;
    graceSec: number;
    /** @default 'websocket' */
    transport?: FleetTransport;
  };
  /** Longest wait for the buffer to work off an ingest phase's backlog. @default 120 */
  drainTimeoutSec?: number;
  log: (line: string) => void;
}

const PAUSE_MS = 2000;

/** Runs the ingest phases (each followed by a drain wait), then the fleet phases, sampling every process throughout. */
export async function runScenario(
  system: ScenarioSystem,
  options: ScenarioOptions,
): Promise<RunReport> {
  const origin = Date.now();
  const now = (): number => (Date.now() - origin) / 1000;
  const sampler = new ProcessSampler(500);
  sampler.add('loadgen', process.pid);
  for (const { name, pid } of system.pids) sampler.add(name, pid);
  const poller = new MetricsPoller([PROCESSED_METRIC], origin);
  system.bufferUrls.forEach((url, i) => poller.add(`buffer-${i}`, url));
  sampler.start();
  poller.start();

  const phases: ReportPhase[] = [];
  const catchUps: BufferCatchUp[] = [];
  try {
    await sleep(PAUSE_MS);
    for (const batch of options.ingest.batches) {
      const name = `ingest batch ${batch}`;
      options.log(
        `${name}: ${options.ingest.connections} connections for ${options.ingest.durationSec} s`,
      );
      const processedBefore = await processedTotal(poller);
      const startSec = now();
      const result = await runIngestBenchmark({
        baseUrl: system.edgeUrls[0] as string,
        token: system.ingestToken,
        connections: options.ingest.connections,
        durationSec: options.ingest.durationSec,
        batchSize: batch,
        criticalShare: options.ingest.criticalShare,
        users: options.ingest.users,
      });
      phases.push({ name, startSec, endSec: now(), result });
      options.log(
        `  ${Math.round(result.requests.perSec)} requests/s, ${Math.round(result.events.perSec)} events/s`,
      );
      if (poller.targets.length > 0) {
        const phaseEndSec = now();
        const target = processedBefore + result.events.accepted;
        const atPhaseEnd = await processedTotal(poller);
        const drained = await waitForProcessed(
          poller,
          target,
          (options.drainTimeoutSec ?? 120) * 1000,
        );
        const caughtUpSec = now();
        catchUps.push({
          name,
          phaseStartSec: startSec,
          phaseEndSec,
          caughtUpSec,
          processed: (await processedTotal(poller)) - processedBefore,
          backlogAtPhaseEnd: Math.max(0, target - atPhaseEnd),
          drained,
        });
        options.log(
          `  buffer ${drained ? 'caught up' : 'did NOT catch up'} ${(caughtUpSec - phaseEndSec).toFixed(1)} s after the phase`,
        );
      }
      await sleep(PAUSE_MS);
    }
    for (const rate of options.fleet.rates) {
      const transport = options.fleet.transport ?? 'websocket';
      const name = transport === 'sse' ? `fleet sse ${rate}/s` : `fleet ${rate}/s`;
      options.log(`${name}: ${options.fleet.clients} clients, ${options.fleet.durationSec} s`);
      const startSec = now();
      const result = await runFleet({
        wsUrls: system.wsUrls,
        ingestBaseUrl: system.edgeUrls[0] as string,
        ingestToken: system.ingestToken,
        jwtSecret: system.jwtSecret,
        clients: options.fleet.clients,
        users: options.fleet.users,
        ratePerSec: rate,
        durationSec: options.fleet.durationSec,
        graceSec: options.fleet.graceSec,
        transport,
        log: (line) => options.log(`  ${line}`),
      });
      phases.push({ name, startSec, endSec: now(), result });
      options.log(`  ${result.passed ? 'pass' : `FAIL: ${result.failures.join('; ')}`}`);
      await sleep(PAUSE_MS);
    }
  } finally {
    sampler.stop();
    poller.stop();
  }

  const processes = sampler.sampled();
  const failures = phases.flatMap((phase) =>
    isFleet(phase.result)
      ? phase.result.failures.map((failure) => `${phase.name}: ${failure}`)
      : [],
  );
  for (const catchUp of catchUps) {
    if (!catchUp.drained) failures.push(`${catchUp.name}: the buffer did not catch up in time`);
  }
  // Catch-up windows shorter than a sampling interval would have no samples.
  const drainWindows = catchUps
    .filter((c) => c.caughtUpSec - c.phaseEndSec >= 1)
    .map((c) => ({
      name: `buffer catch-up after ${c.name}`,
      startSec: c.phaseEndSec,
      endSec: c.caughtUpSec,
    }));
  return {
    kind: 'agentwire-loadtest',
    version: 1,
    createdAt: new Date(origin).toISOString(),
    originEpochMs: origin,
    mode: options.mode,
    command: options.command,
    machine: machineInfo(system.redisVersion),
    system: system.description,
    phases,
    bufferCatchUp: catchUps,
    processes,
    processStats: processStatsByPhase(
      processes,
      [...phases, ...drainWindows].sort((a, b) => a.startSec - b.startSec),
    ),
    metrics: poller.targets,
    passed: failures.length === 0,
    failures,
  };
}

async function processedTotal(poller: MetricsPoller): Promise<number> {
  const values = await Promise.all(poller.targets.map((target) => poller.scrape(target)));
  return values.reduce(
    (sum, v) => sum + (Number.isFinite(v[PROCESSED_METRIC]) ? (v[PROCESSED_METRIC] as number) : 0),
    0,
  );
}

async function waitForProcessed(
  poller: MetricsPoller,
  target: number,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await processedTotal(poller)) >= target) return true;
    await sleep(250);
  }
  return false;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
