import { randomBytes } from 'node:crypto';
import { createKeyLayout } from '@agentwire/redis';
import { Redis } from 'ioredis';
import { cpuPerEvent, ratio, type CpuPerEvent } from './cpu-per-event.js';
import type { FleetEventKind } from './fleet-events.js';
import { startFloorStack } from './floor-stack.js';
import { phaseOf, type FleetPhase } from './fleet-phase.js';
import type { LatencySummary } from './percentile.js';
import { startSequencerHopProbe } from './sequencer-hop-probe.js';
import { SUITE_PUBLISHER } from './suite-publisher.js';
import { runFleet, type FleetOptions, type FleetResult } from './fleet-runner.js';
import { probeIdleConnections, type IdleProbeResult } from './idle-connections-probe.js';
import { redisPortsOf, startLocalStack } from './local-stack.js';
import type { NonCriticalTotals } from './non-critical-ledger.js';
import {
  ProcessSampler,
  readCpuTicks,
  readWakeUps,
  ticksPerSecond,
  type SampledProcess,
} from './process-sampler.js';
import {
  DEFAULT_RATE_CRITERIA,
  judgeRateStep,
  searchRates,
  searchRatesByKind,
  type RateSearchResult,
  type RateStep,
} from './rate-search.js';
import {
  runKillStorm,
  runReplayStorm,
  type KillStormResult,
  type ReplayStormResult,
} from './resume-storms.js';
import type { RunTextCheck } from './run-text-check.js';

export type SuitePart = 'latency' | 'throughput' | 'cpu' | 'idle' | 'resume' | 'appends';
export type SystemName = 'agentwire' | 'floor';
export const SUITE_PARTS: readonly SuitePart[] = [
  'latency',
  'cpu',
  'throughput',
  'idle',
  'resume',
  'appends',
];
/** Issue 8's parts: what runs without --parts. */
export const DEFAULT_SUITE_PARTS: readonly SuitePart[] = [
  'latency',
  'cpu',
  'throughput',
  'idle',
  'resume',
];
/** The kinds the appends part compares, the reference first. */
export const APPEND_KINDS = ['noncritical', 'appends'] as const;
export type AppendKind = (typeof APPEND_KINDS)[number];

export interface SuiteOptions {
  parts: ReadonlySet<SuitePart>;
  /** Systems the fleet parts (latency, cpu, throughput) run against, in this order. */
  systems: readonly SystemName[];
  clients: number;
  users: number;
  ackIntervalMs: number;
  latencyRate: number;
  latencyDurationSec: number;
  /**
   * Latency phases per system, each on a fresh stack, the systems' order
   * alternating from round to round; the report takes the medians.
   */
  latencyRounds: number;
  /** Published before the latency phase and each rate step, out of their latency figures. */
  warmupSec: number;
  cpuRate: number;
  cpuDurationSec: number;
  rates: readonly number[];
  stepDurationSec: number;
  stepGraceSec: number;
  /** Bisection steps after the first failing rate (rate-search.ts). */
  refineSteps: number;
  idleConnections: number;
  killClients: number;
  killRate: number;
  killDurationSec: number;
  stormClients: number;
  stormEventsPerUser: number;
  /** Rates of the appends part's search (both kinds), ascending. */
  appendRates: readonly number[];
  /** Bisection steps per kind after the appends part's coarse search. */
  appendRefineSteps: number;
  /** Events per capacity run of the appends part (0: none). */
  appendCapacityEvents: number;
  /** Capacity runs per kind, interleaved. */
  appendCapacityRounds: number;
  log: (line: string) => void;
}

export interface SystemRun {
  system: SystemName;
  /** Processes of the system under test, as sampled. */
  pids: Array<{ name: string; pid: number }>;
  redisVersion: string;
  /** What CONFIG GET says about the Redis persistence of this run. */
  redisPersistence: string;
  latency?: FleetPhase;
  /**
   * Of the latency phase's events, from the POST to their sequencing (the
   * inbox entry the persist script forwarded them in; agentwire only):
   * sequencer-hop-probe.ts.
   */
  latencyToSequencedMs?: LatencySummary;
  /** Every latency round in the order run; `latency` is the one with the median p50. */
  latencyRounds?: LatencyRound[];
  cpu?: { phase: FleetPhase; cpu: CpuPerEvent };
  throughput?: RateSearchResult;
  samples: SampledProcess[];
}

/** One latency phase of a system. */
export interface LatencyRound {
  phase: FleetPhase;
  /** agentwire: from the POST to the event's sequencing (sequencer-hop-probe.ts). */
  toSequencedMs?: LatencySummary;
}

/** One step of the appends part: the rate step, the CPU it took and the non-critical accounting. */
export interface KindStep extends RateStep {
  kind: AppendKind;
  /** From the edge's ingest `ts` to the client's receive: the part after the POST's answer. */
  fromIngestP50Ms: number;
  fromIngestP99Ms: number;
  cpu: CpuPerEvent;
  nonCritical?: NonCriticalTotals;
  runTextCheck?: RunTextCheck;
}

/** One kind pushed through faster than the system takes it: how fast everything got through. */
export interface CapacityRun {
  kind: AppendKind;
  accepted: number;
  /** Accepted events / seconds until ingest answered the last POST: ingest's own pace. */
  acceptedRate: number;
  /** Accepted events / seconds from the start of publishing to the last delivery. */
  sustainedRate: number;
  allArrived: boolean;
  p50Ms: number;
  p99Ms: number;
  cpu: CpuPerEvent;
  nonCritical?: NonCriticalTotals;
  passed: boolean;
  failures: string[];
}

/**
 * The capacity runs of both kinds, interleaved round by round (the order
 * alternating): a measure of throughput that a busy host disturbs less than
 * a p99 bar, and CPU per event with no idle time in it.
 */
export interface CapacityComparison {
  events: number;
  offeredRate: number;
  rounds: CapacityRun[][];
  meanRate: Record<AppendKind, number>;
  meanCpuUsPerEvent: Record<AppendKind, number>;
  /** Mean sustained rate of appends / of non-critical events. */
  rateRatio: number;
  /** Mean CPU per event of appends / of non-critical events. */
  cpuRatio: number;
}

/**
 * Appends against plain non-critical events of the same size, searched
 * interleaved on one agentwire stack with the same fleet (protocol.md
 * section 9; issue 9 asks for appends at 80 % of the other's rate or more).
 */
export interface AppendsRun {
  pids: Array<{ name: string; pid: number }>;
  redisVersion: string;
  redisPersistence: string;
  searches: Record<AppendKind, RateSearchResult & { steps: KindStep[] }>;
  /** Highest passing rate of appends / of non-critical events. */
  ratio: number;
  capacity?: CapacityComparison;
  samples: SampledProcess[];
}

export interface SuiteResults {
  runs: SystemRun[];
  appends?: AppendsRun;
  idle?: IdleProbeResult;
  resume?: {
    replay: ReplayStormResult;
    kill: Omit<KillStormResult, 'fleet'> & { fleet: FleetPhase };
  };
}

interface SystemUnderTest {
  wsUrls: string[];
  ingestBaseUrl: string;
  ingestToken: string;
  jwtSecret: string;
  pids: Array<{ name: string; pid: number }>;
  redisVersion: string;
  redisPort: number;
  /** The edges' inbox streams (agentwire). */
  inboxKeys?: string[];
  stop(): Promise<void>;
}

// Between phases: what is still in flight from the previous one settles first
// (a failed step can leave a backlog that would otherwise load the next phase).
const SETTLE_MS = 1000;
const QUIET_CORE_SHARE = 0.15;
const QUIET_WINDOW_MS = 500;
const QUIET_CAP_MS = 30_000;
// Capacity runs offer events this fast (far above what 2 shared cores take) and
// give the backlog this long to arrive.
const CAPACITY_OFFERED_RATE = 20_000;
const CAPACITY_GRACE_SEC = 40;

/** Owns whatever stack is running, so an interrupt can stop it. */
export class SuiteRunner {
  private running: SystemUnderTest | undefined;

  constructor(private readonly options: SuiteOptions) {}

  /** Stops the stack that is running, if any (for the interrupt guard). */
  async stopAll(): Promise<void> {
    const sut = this.running;
    this.running = undefined;
    await sut?.stop();
  }

  async run(): Promise<SuiteResults> {
    const { parts } = this.options;
    const results: SuiteResults = { runs: [] };
    if (parts.has('latency') || parts.has('cpu') || parts.has('throughput')) {
      for (const system of this.options.systems) results.runs.push(await this.runSystem(system));
    }
    if (parts.has('latency')) await this.moreLatencyRounds(results.runs);
    if (parts.has('appends')) results.appends = await this.runAppends();
    if (parts.has('idle')) results.idle = await this.runIdle();
    if (parts.has('resume')) results.resume = await this.runResume();
    return results;
  }

  private async runSystem(system: SystemName): Promise<SystemRun> {
    const o = this.options;
    o.log(`== ${system}: starting`);
    const sut = await this.start(system, 2);
    const sampler = new ProcessSampler();
    for (const { name, pid } of sut.pids) sampler.add(name, pid);
    sampler.add('loadgen', process.pid);
    sampler.start();
    const run: SystemRun = {
      system,
      pids: sut.pids,
      redisVersion: sut.redisVersion,
      redisPersistence: await persistenceOf(sut.redisPort),
      samples: [],
    };
    try {
      if (o.parts.has('latency')) {
        o.log(`== ${system}: latency at ${o.latencyRate}/s (round 1 of ${o.latencyRounds})`);
        setLatencyRounds(run, [await this.measureLatency(sut)]);
        await this.settle(sut);
      }
      if (o.parts.has('cpu')) {
        o.log(`== ${system}: CPU at ${o.cpuRate}/s`);
        run.cpu = await this.cpuPhase(sut);
        await this.settle(sut);
      }
      if (o.parts.has('throughput')) {
        o.log(`== ${system}: rate search over ${o.rates.join(', ')}`);
        run.throughput = await searchRates(
          o.rates,
          async (rate) => {
            const fleet = await this.fleet(
              sut,
              rate,
              o.stepDurationSec,
              o.stepGraceSec,
              {},
              'critical',
              o.warmupSec,
            );
            const step = judgeRateStep(fleet, DEFAULT_RATE_CRITERIA);
            o.log(
              `   ${rate}/s: ${step.passed ? 'pass' : 'FAIL'} p99 ${step.p99Ms.toFixed(1)} ms, published ${Math.round(step.achievedRate)}/s${step.passed ? '' : ` (${step.reasons.join('; ')})`}`,
            );
            await this.settle(sut);
            return step;
          },
          o.refineSteps,
        );
      }
    } finally {
      sampler.stop();
      run.samples = sampler.sampled();
      await this.stopAll();
    }
    return run;
  }

  /** One latency phase on a running stack, with the sequencing probe for agentwire. */
  private async measureLatency(sut: SystemUnderTest): Promise<LatencyRound> {
    const o = this.options;
    const hops = sut.inboxKeys
      ? startSequencerHopProbe({ redisPort: sut.redisPort, inboxKeys: sut.inboxKeys })
      : undefined;
    const countFrom = () => hops?.countFrom(Date.now() + o.warmupSec * 1000);
    const phase = phaseOf(
      await this.fleet(
        sut,
        o.latencyRate,
        o.latencyDurationSec,
        10,
        { onPublishStart: countFrom },
        'critical',
        o.warmupSec,
      ),
    );
    const toSequencedMs = await hops?.stop();
    return toSequencedMs ? { phase, toSequencedMs } : { phase };
  }

  /**
   * Latency rounds 2..N, each system on a fresh stack, the order reversed
   * from one round to the next (round 1 ran in the systems' order), so the
   * host's drift during the suite falls on both systems alike.
   */
  private async moreLatencyRounds(runs: readonly SystemRun[]): Promise<void> {
    const o = this.options;
    for (let round = 2; round <= o.latencyRounds; round++) {
      const order = round % 2 === 0 ? [...runs].reverse() : [...runs];
      for (const run of order) {
        o.log(
          `== ${run.system}: latency at ${o.latencyRate}/s (round ${round} of ${o.latencyRounds})`,
        );
        const sut = await this.start(run.system, 2);
        try {
          setLatencyRounds(run, [...(run.latencyRounds ?? []), await this.measureLatency(sut)]);
        } finally {
          await this.stopAll();
        }
      }
    }
  }

  /**
   * Waits until the system's processes together use less than 15 % of a core
   * over half a second (at most 30 s): the backlog of the previous phase is
   * worked off before the next one starts.
   */
  private async settle(sut: Pick<SystemUnderTest, 'pids'>): Promise<void> {
    await sleep(SETTLE_MS);
    const hz = ticksPerSecond();
    const deadline = Date.now() + QUIET_CAP_MS;
    const total = (): number =>
      sut.pids.reduce((sum, { pid }) => sum + (readCpuTicks(pid) || 0), 0);
    while (Date.now() < deadline) {
      const before = total();
      await sleep(QUIET_WINDOW_MS);
      const coreShare = (total() - before) / hz / (QUIET_WINDOW_MS / 1000);
      if (coreShare < QUIET_CORE_SHARE) return;
    }
    this.options.log('   (the system was still busy after 30 s; going on)');
  }

  private async cpuPhase(sut: SystemUnderTest): Promise<{ phase: FleetPhase; cpu: CpuPerEvent }> {
    const o = this.options;
    const { fleet, cpu } = await this.fleetWithCpu(sut, o.cpuRate, o.cpuDurationSec, 10);
    return { phase: phaseOf(fleet), cpu };
  }

  /**
   * A fleet run and the CPU every process of the system used from the start
   * of publishing until every event arrived, per accepted event.
   */
  private async fleetWithCpu(
    sut: SystemUnderTest,
    rate: number,
    durationSec: number,
    graceSec: number,
    events: FleetEventKind = 'critical',
  ): Promise<{ fleet: FleetResult; cpu: CpuPerEvent }> {
    let startTicks: number[] = [];
    let endTicks: number[] = [];
    let startWakeUps: number[] = [];
    let endWakeUps: number[] = [];
    let startMs = 0;
    let endMs = 0;
    const hooks = {
      onPublishStart: () => {
        startMs = Date.now();
        startTicks = sut.pids.map(({ pid }) => readCpuTicks(pid));
        startWakeUps = sut.pids.map(({ pid }) => readWakeUps(pid));
      },
      onSettled: () => {
        endMs = Date.now();
        endTicks = sut.pids.map(({ pid }) => readCpuTicks(pid));
        endWakeUps = sut.pids.map(({ pid }) => readWakeUps(pid));
      },
    };
    const fleet = await this.fleet(sut, rate, durationSec, graceSec, hooks, events);
    const processes = sut.pids.map(({ name }, i) => ({
      name,
      ticks: (endTicks[i] ?? Number.NaN) - (startTicks[i] ?? Number.NaN),
      wakeUps: (endWakeUps[i] ?? Number.NaN) - (startWakeUps[i] ?? Number.NaN),
    }));
    const windowSec = (endMs - startMs) / 1000;
    const cpu = cpuPerEvent(processes, ticksPerSecond(), fleet.publisher.accepted, windowSec);
    return { fleet, cpu };
  }

  private async runAppends(): Promise<AppendsRun> {
    const o = this.options;
    o.log(`== appends against non-critical events (agentwire): rates ${o.appendRates.join(', ')}`);
    const sut = await this.start('agentwire', 2);
    const sampler = new ProcessSampler();
    for (const { name, pid } of sut.pids) sampler.add(name, pid);
    sampler.add('loadgen', process.pid);
    sampler.start();
    try {
      const capacity = o.appendCapacityEvents > 0 ? await this.appendCapacity(sut) : undefined;
      const searches = await searchRatesByKind(
        APPEND_KINDS,
        o.appendRates,
        o.appendRefineSteps,
        async (kind, rate): Promise<KindStep> => {
          const { fleet, cpu } = await this.fleetWithCpu(
            sut,
            rate,
            o.stepDurationSec,
            o.stepGraceSec,
            kind,
          );
          const step: KindStep = {
            ...judgeRateStep(fleet, DEFAULT_RATE_CRITERIA),
            kind,
            fromIngestP50Ms: fleet.latencyFromIngestMs.p50,
            fromIngestP99Ms: fleet.latencyFromIngestMs.p99,
            cpu,
            ...(fleet.nonCritical ? { nonCritical: fleet.nonCritical } : {}),
            ...(fleet.runTextCheck ? { runTextCheck: fleet.runTextCheck } : {}),
          };
          o.log(
            `   ${kind} ${rate}/s: ${step.passed ? 'pass' : 'FAIL'} p99 ${step.p99Ms.toFixed(1)} ms, published ${Math.round(step.achievedRate)}/s, CPU ${cpu.total.usPerEvent.toFixed(1)} µs/event${step.passed ? '' : ` (${step.reasons.join('; ')})`}`,
          );
          await this.settle(sut);
          return step;
        },
      );
      const redisPersistence = await persistenceOf(sut.redisPort);
      sampler.stop();
      return {
        pids: sut.pids,
        redisVersion: sut.redisVersion,
        redisPersistence,
        searches,
        ratio: ratio(searches.appends.highestPassingRate, searches.noncritical.highestPassingRate),
        ...(capacity ? { capacity } : {}),
        samples: sampler.sampled(),
      };
    } finally {
      sampler.stop();
      await this.stopAll();
    }
  }

  /**
   * Each kind `appendCapacityRounds` times, interleaved: `appendCapacityEvents`
   * events offered at CAPACITY_OFFERED_RATE, far above what the system takes,
   * so the time until the last one arrived is set by the system.
   */
  private async appendCapacity(sut: SystemUnderTest): Promise<CapacityComparison> {
    const o = this.options;
    const events = o.appendCapacityEvents;
    const rounds: CapacityRun[][] = [];
    for (let r = 0; r < o.appendCapacityRounds; r++) {
      const order = r % 2 === 0 ? [...APPEND_KINDS] : [...APPEND_KINDS].reverse();
      const round: CapacityRun[] = [];
      for (const kind of order) {
        o.log(
          `== capacity round ${r + 1}: ${events} ${kind} events offered at ${CAPACITY_OFFERED_RATE}/s`,
        );
        const { fleet, cpu } = await this.fleetWithCpu(
          sut,
          CAPACITY_OFFERED_RATE,
          events / CAPACITY_OFFERED_RATE,
          CAPACITY_GRACE_SEC,
          kind,
        );
        const seconds = ((fleet.lastDeliveryMs ?? 0) - fleet.publishStartMs) / 1000;
        const run: CapacityRun = {
          kind,
          accepted: fleet.publisher.accepted,
          acceptedRate: fleet.publisher.accepted / fleet.publisher.elapsedSec,
          sustainedRate: seconds > 0 ? fleet.publisher.accepted / seconds : Number.NaN,
          allArrived: fleet.allArrived ?? false,
          p50Ms: fleet.latencyFromSendMs.p50,
          p99Ms: fleet.latencyFromSendMs.p99,
          cpu,
          ...(fleet.nonCritical ? { nonCritical: fleet.nonCritical } : {}),
          passed: fleet.passed,
          failures: fleet.failures,
        };
        o.log(
          `   ${kind}: ${Math.round(run.sustainedRate)}/s sustained (${run.accepted} in ${seconds.toFixed(1)} s; ingest took them at ${Math.round(run.acceptedRate)}/s), CPU ${cpu.total.usPerEvent.toFixed(1)} µs/event${run.passed ? '' : `, ${run.failures.join('; ')}`}`,
        );
        round.push(run);
        await this.settle(sut);
      }
      rounds.push(round);
    }
    const mean = (kind: AppendKind, of: (run: CapacityRun) => number): number => {
      const values = rounds
        .flat()
        .filter((run) => run.kind === kind)
        .map(of);
      return values.reduce((sum, value) => sum + value, 0) / values.length;
    };
    const meanRate = {
      noncritical: mean('noncritical', (run) => run.sustainedRate),
      appends: mean('appends', (run) => run.sustainedRate),
    };
    const meanCpuUsPerEvent = {
      noncritical: mean('noncritical', (run) => run.cpu.total.usPerEvent),
      appends: mean('appends', (run) => run.cpu.total.usPerEvent),
    };
    return {
      events,
      offeredRate: CAPACITY_OFFERED_RATE,
      rounds,
      meanRate,
      meanCpuUsPerEvent,
      rateRatio: ratio(meanRate.appends, meanRate.noncritical),
      cpuRatio: ratio(meanCpuUsPerEvent.appends, meanCpuUsPerEvent.noncritical),
    };
  }

  private fleet(
    sut: SystemUnderTest,
    rate: number,
    durationSec: number,
    graceSec: number,
    hooks: Pick<FleetOptions, 'onPublishStart' | 'onSettled'> = {},
    events: FleetEventKind = 'critical',
    warmupSec = 0,
  ): Promise<FleetResult> {
    const o = this.options;
    return runFleet({
      wsUrls: sut.wsUrls,
      ingestBaseUrl: sut.ingestBaseUrl,
      ingestToken: sut.ingestToken,
      jwtSecret: sut.jwtSecret,
      clients: o.clients,
      users: o.users,
      ratePerSec: rate,
      durationSec,
      warmupSec,
      graceSec,
      ackIntervalMs: o.ackIntervalMs,
      events,
      ...SUITE_PUBLISHER,
      log: (line) => o.log(`   ${line}`),
      ...hooks,
    });
  }

  private async runIdle(): Promise<IdleProbeResult> {
    const o = this.options;
    o.log(`== idle: ${o.idleConnections} connections on one edge`);
    const local = await startLocalStack({ edges: 1, buffers: 1 });
    this.running = { ...this.fromLocal(local), stop: () => local.stack.stop() };
    try {
      const edge = local.stack.edges[0];
      if (!edge) throw new Error('the stack has no edge');
      return await probeIdleConnections({
        wsUrl: edge.wsUrl,
        httpUrl: edge.url,
        edgePid: edge.pid,
        jwtSecret: local.stack.env.JWT_SECRET ?? '',
        connections: o.idleConnections,
        users: Math.ceil(o.idleConnections / 4),
        log: (line) => o.log(`   ${line}`),
      });
    } finally {
      await this.stopAll();
    }
  }

  private async runResume(): Promise<NonNullable<SuiteResults['resume']>> {
    const o = this.options;
    o.log('== resume storms (agentwire, 2 edges)');
    const local = await startLocalStack({ edges: 2, buffers: 1 });
    const sut = this.fromLocal(local);
    this.running = { ...sut, stop: () => local.stack.stop() };
    try {
      const target = {
        wsUrls: sut.wsUrls,
        ingestBaseUrl: sut.ingestBaseUrl,
        ingestToken: sut.ingestToken,
        jwtSecret: sut.jwtSecret,
        bufferUrls: local.stack.buffers.map((buffer) => buffer.url),
        log: (line: string) => o.log(`   ${line}`),
      };
      const replay = await runReplayStorm(target, {
        clients: o.stormClients,
        users: Math.ceil(o.stormClients / 2),
        eventsPerUser: o.stormEventsPerUser,
      });
      o.log(
        `   replay storm: ${replay.done}/${replay.clients} done in ${replay.totalMs.toFixed(0)} ms`,
      );
      await this.settle(sut);
      const kill = await runKillStorm(target, {
        clients: o.killClients,
        users: Math.ceil(o.killClients / 2),
        ratePerSec: o.killRate,
        durationSec: o.killDurationSec,
        killAfterSec: Math.min(3, o.killDurationSec / 3),
        ackIntervalMs: o.ackIntervalMs,
        killEdge: async () => {
          await local.stack.edges[1]?.kill();
        },
      });
      o.log(
        `   kill storm: ${kill.recovered}/${kill.affected} recovered, kill -> first event p99 ${kill.killToFirstEventMs.p99.toFixed(0)} ms`,
      );
      return { replay, kill: { ...kill, fleet: phaseOf(kill.fleet) } };
    } finally {
      await this.stopAll();
    }
  }

  private async start(system: SystemName, edges: number): Promise<SystemUnderTest> {
    if (system === 'floor') {
      const floor = await startFloorStack({
        ingestToken: randomBytes(16).toString('hex'),
        jwtSecret: randomBytes(32).toString('hex'),
      });
      this.running = {
        wsUrls: [floor.relay.wsUrl],
        ingestBaseUrl: floor.relay.url,
        ingestToken: floor.ingestToken,
        jwtSecret: floor.jwtSecret,
        pids: floor.pids,
        redisVersion: floor.redisVersion,
        redisPort: Number(new URL(floor.redisUrl).port),
        stop: () => floor.stop(),
      };
      return this.running;
    }
    const local = await startLocalStack({ edges, buffers: 1 });
    this.running = { ...this.fromLocal(local), stop: () => local.stack.stop() };
    return this.running;
  }

  private fromLocal(
    local: Awaited<ReturnType<typeof startLocalStack>>,
  ): Omit<SystemUnderTest, 'stop'> {
    const first = local.stack.edges[0];
    if (!first) throw new Error('the stack has no edge');
    const keys = createKeyLayout(local.stack.env.KEY_PREFIX ?? '', 1);
    return {
      wsUrls: local.stack.edges.map((edge) => edge.wsUrl),
      ingestBaseUrl: first.url,
      ingestToken: local.stack.env.INGEST_TOKEN ?? '',
      jwtSecret: local.stack.env.JWT_SECRET ?? '',
      pids: local.pids,
      redisVersion: local.redisVersion,
      redisPort: redisPortsOf(local.stack.env)[0] ?? 0,
      // The stack names its edges edge-<index> (NODE_ID).
      inboxKeys: local.stack.edges.map((_, index) => keys.inbox(`edge-${index}`)),
    };
  }
}

async function persistenceOf(port: number): Promise<string> {
  const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1 });
  try {
    const [, aof] = (await client.config('GET', 'appendonly')) as string[];
    const [, save] = (await client.config('GET', 'save')) as string[];
    return `appendonly ${aof ?? '?'}, save "${save ?? '?'}"`;
  } catch {
    return 'unknown';
  } finally {
    client.disconnect();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Keeps the rounds and makes the one with the median p50 (the lower of two middles) the run's latency. */
function setLatencyRounds(run: SystemRun, rounds: LatencyRound[]): void {
  const byP50 = [...rounds].sort(
    (a, b) => a.phase.latencyFromSendMs.p50 - b.phase.latencyFromSendMs.p50,
  );
  const median = byP50[Math.floor((byP50.length - 1) / 2)] as LatencyRound;
  run.latencyRounds = rounds;
  run.latency = median.phase;
  if (median.toSequencedMs) run.latencyToSequencedMs = median.toSequencedMs;
}
