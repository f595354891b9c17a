import { ratio } from './cpu-per-event.js';
import type { LoopDelaySummary } from './loop-delay-probe.js';
import type { MachineInfo } from './machine-info.js';
import { percentileOfSorted } from './percentile.js';
import type {
  AppendsRun,
  CapacityComparison,
  SuiteResults,
  SystemRun,
} from './perf-suite-runner.js';
import { MACHINE } from './process-sampler.js';
import type { ReportChart } from './report-charts.js';
import { barChartSvg, lineChartSvg, type LineSeries } from './svg-chart.js';

export interface SuiteReport {
  kind: 'perf-suite';
  createdAt: string;
  command: string;
  machine: MachineInfo;
  settings: Record<string, unknown>;
  results: SuiteResults;
  comparison: SuiteComparison;
  durationSec: number;
}

/** agentwire next to the floor; every ratio is agentwire / floor (NaN when either side is missing). */
export interface SuiteComparison {
  latency?: {
    rate: number;
    agentwire: { p50: number; p99: number };
    floor: { p50: number; p99: number };
    p50Ratio: number;
    p99Ratio: number;
  };
  throughput?: {
    agentwire: number | null;
    floor: number | null;
    /** Throughput ratio: below 1 means agentwire sustains less than the floor. */
    ratio: number;
  };
  cpu?: {
    rate: number;
    agentwire: Record<string, number>;
    floor: Record<string, number>;
    totalRatio: number;
  };
}

const NAN_PAIR = { p50: Number.NaN, p99: Number.NaN };

/** The headline numbers of both systems and their ratios. */
export function compareSystems(runs: readonly SystemRun[]): SuiteComparison {
  const aw = runs.find((run) => run.system === 'agentwire');
  const floor = runs.find((run) => run.system === 'floor');
  const comparison: SuiteComparison = {};
  const awLatency = latencyOf(aw);
  const floorLatency = latencyOf(floor);
  if (awLatency || floorLatency) {
    const a = awLatency ?? NAN_PAIR;
    const f = floorLatency ?? NAN_PAIR;
    comparison.latency = {
      rate: aw?.latency?.rate ?? floor?.latency?.rate ?? Number.NaN,
      agentwire: a,
      floor: f,
      p50Ratio: ratio(a.p50, f.p50),
      p99Ratio: ratio(a.p99, f.p99),
    };
  }
  if (aw?.throughput || floor?.throughput) {
    const a = aw?.throughput?.highestPassingRate ?? null;
    const f = floor?.throughput?.highestPassingRate ?? null;
    comparison.throughput = { agentwire: a, floor: f, ratio: ratio(a, f) };
  }
  if (aw?.cpu || floor?.cpu) {
    const perRole = (run: SystemRun | undefined): Record<string, number> => {
      const out: Record<string, number> = {};
      if (!run?.cpu) return out;
      for (const role of run.cpu.cpu.roles) out[role.role] = role.usPerEvent;
      out.total = run.cpu.cpu.total.usPerEvent;
      return out;
    };
    const a = perRole(aw);
    const f = perRole(floor);
    comparison.cpu = {
      rate: aw?.cpu?.phase.rate ?? floor?.cpu?.phase.rate ?? Number.NaN,
      agentwire: a,
      floor: f,
      totalRatio: ratio(a.total, f.total),
    };
  }
  return comparison;
}

/**
 * A system's p50 and p99: over several latency rounds, the median of each
 * (the lower of two middles, so always a measured value).
 */
export function latencyOf(run: SystemRun | undefined): { p50: number; p99: number } | undefined {
  const phases =
    run?.latencyRounds?.map((round) => round.phase) ?? (run?.latency ? [run.latency] : []);
  if (phases.length === 0) return undefined;
  const median = (values: number[]): number =>
    percentileOfSorted(
      values.sort((x, y) => x - y),
      50,
    );
  return {
    p50: median(phases.map((phase) => phase.latencyFromSendMs.p50)),
    p99: median(phases.map((phase) => phase.latencyFromSendMs.p99)),
  };
}

/** Plots of the suite, drawn with the report's own SVG code. */
export function suiteCharts(report: SuiteReport): ReportChart[] {
  const charts: ReportChart[] = [];
  const runs = report.results.runs;
  const withLatency = runs.filter((run) => run.latency);
  if (withLatency.length > 0) {
    const qs = ['p50', 'p90', 'p99', 'max'] as const;
    charts.push({
      file: 'latency.svg',
      title: 'Latency from the start of the POST to the receive',
      svg: barChartSvg({
        title: `Latency at ${withLatency[0]?.latency?.rate ?? '?'} critical events/s (ms)`,
        xLabel: 'percentile',
        yLabel: 'ms',
        categories: [...qs],
        series: withLatency.map((run) => ({
          name: run.system,
          values: qs.map((q) => run.latency?.latencyFromSendMs[q] ?? Number.NaN),
        })),
      }),
    });
  }
  const withSearch = runs.filter((run) => run.throughput && run.throughput.steps.length > 0);
  if (withSearch.length > 0) {
    const series: LineSeries[] = withSearch.map((run) => ({
      name: `${run.system} p99`,
      // By rate: bisection steps come after the step that failed.
      points: [...(run.throughput?.steps ?? [])]
        .sort((a, b) => a.rate - b.rate)
        .map((step) => [step.rate, step.p99Ms] as const),
    }));
    charts.push({
      file: 'rate-search.svg',
      title: 'Rate search: p99 per step (the bar is 100 ms)',
      svg: lineChartSvg({
        title: 'p99 from POST to receive per rate step',
        xLabel: 'critical events/s',
        yLabel: 'p99 ms',
        series: [
          ...series,
          {
            name: '100 ms bar',
            points: [
              [Math.min(...series.flatMap((s) => s.points.map((p) => p[0]))), 100],
              [Math.max(...series.flatMap((s) => s.points.map((p) => p[0]))), 100],
            ],
          },
        ],
      }),
    });
  }
  const cpu = report.comparison.cpu;
  if (cpu) {
    const roles = [...new Set([...Object.keys(cpu.agentwire), ...Object.keys(cpu.floor)])];
    charts.push({
      file: 'cpu-per-event.svg',
      title: `CPU per event by role at ${cpu.rate}/s`,
      svg: barChartSvg({
        title: `CPU µs per event at ${cpu.rate}/s`,
        xLabel: 'role',
        yLabel: 'µs',
        categories: roles,
        series: [
          { name: 'agentwire', values: roles.map((role) => cpu.agentwire[role] ?? Number.NaN) },
          { name: 'floor', values: roles.map((role) => cpu.floor[role] ?? Number.NaN) },
        ],
      }),
    });
  }
  for (const run of runs) {
    const series: LineSeries[] = run.samples
      .filter((proc) => proc.samples.length > 0)
      .map((proc) => ({
        name: proc.name,
        points: proc.samples.map((sample) => [sample.t, sample.cpuPercent] as const),
      }));
    if (series.length === 0) continue;
    charts.push({
      file: `cpu-${run.system}.svg`,
      title: `CPU over the ${run.system} run (percent of one core)`,
      svg: lineChartSvg({
        title: `${run.system}: CPU % of one core`,
        xLabel: 's',
        yLabel: 'CPU %',
        series,
      }),
    });
  }
  return charts;
}

const fmt = (value: number | null | undefined, digits = 1): string =>
  value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);
const loopDelay = (delay: LoopDelaySummary | undefined): string =>
  delay ? `${fmt(delay.p99)} / ${fmt(delay.max)}` : 'n/a';
const rate = (value: number | null | undefined): string =>
  value === null || value === undefined ? 'none passed' : `${value.toLocaleString('en-US')}/s`;

/** report.md of the suite. */
export function suiteMarkdown(report: SuiteReport, charts: readonly ReportChart[]): string {
  const m = report.machine;
  const c = report.comparison;
  const r = report.results;
  const lines: string[] = [
    `# agentwire performance suite, ${report.createdAt}`,
    '',
    `Command: \`${report.command}\` (${fmt(report.durationSec, 0)} s)`,
    '',
    `Machine: ${m.nproc} CPUs (${m.cpuModel}), ${m.memoryGiB} GiB, Node ${m.node}, Redis ${m.redis}, Linux ${m.kernel}.`,
    'The load generator (fleet, publisher) runs on the same machine as the system under test.',
    '',
    '## Summary (ratios are agentwire / floor)',
    '',
    '| measure | agentwire | floor | ratio |',
    '| --- | ---: | ---: | ---: |',
  ];
  if (c.latency) {
    lines.push(
      `| p50 latency at ${c.latency.rate}/s (ms) | ${fmt(c.latency.agentwire.p50)} | ${fmt(c.latency.floor.p50)} | ${fmt(c.latency.p50Ratio, 2)} |`,
      `| p99 latency at ${c.latency.rate}/s (ms) | ${fmt(c.latency.agentwire.p99)} | ${fmt(c.latency.floor.p99)} | ${fmt(c.latency.p99Ratio, 2)} |`,
    );
  }
  if (c.throughput) {
    lines.push(
      `| highest passing rate | ${rate(c.throughput.agentwire)} | ${rate(c.throughput.floor)} | ${fmt(c.throughput.ratio, 2)} |`,
    );
  }
  if (c.cpu) {
    const roles = [...new Set([...Object.keys(c.cpu.agentwire), ...Object.keys(c.cpu.floor)])];
    for (const role of roles) {
      lines.push(
        `| CPU µs/event at ${c.cpu.rate}/s: ${role} | ${fmt(c.cpu.agentwire[role])} | ${fmt(c.cpu.floor[role])} | ${role === 'total' ? fmt(c.cpu.totalRatio, 2) : ''} |`,
      );
    }
  }
  if (r.appends) {
    const { noncritical, appends } = r.appends.searches;
    lines.push(
      `| highest passing rate, non-critical events of 5-20 B of text | ${rate(noncritical.highestPassingRate)} | | |`,
      `| highest passing rate, appends of the same text (one run per user) | ${rate(appends.highestPassingRate)} | | ${fmt(r.appends.ratio, 2)} (appends / non-critical) |`,
    );
    const cap = r.appends.capacity;
    if (cap) {
      lines.push(
        `| sustained under overload (mean of ${cap.rounds.length}): non-critical / appends | ${fmt(cap.meanRate.noncritical, 0)}/s / ${fmt(cap.meanRate.appends, 0)}/s | | ${fmt(cap.rateRatio, 2)} (appends / non-critical) |`,
        `| CPU µs/event under overload: non-critical / appends | ${fmt(cap.meanCpuUsPerEvent.noncritical)} / ${fmt(cap.meanCpuUsPerEvent.appends)} | | ${fmt(cap.cpuRatio, 2)} (appends / non-critical) |`,
      );
    }
  }
  if (r.idle) {
    lines.push(
      `| memory per idle connection (${r.idle.opened} on one edge) | ${fmt(r.idle.kibPerConnection, 2)} KiB | | |`,
    );
  }
  if (r.resume) {
    const k = r.resume.kill;
    const s = r.resume.replay;
    lines.push(
      `| edge SIGKILL: kill -> first event, p99 (${k.recovered}/${k.affected} clients) | ${fmt(k.killToFirstEventMs.p99, 0)} ms | | |`,
      `| ${s.clients} clients resuming at once, ${s.eventsPerUser} events each: all replayed | ${fmt(s.totalMs, 0)} ms | | |`,
    );
  }
  lines.push('');
  for (const run of r.runs) lines.push(...systemSection(run));
  if (r.appends) lines.push(...appendsSection(r.appends));
  if (r.idle) {
    const i = r.idle;
    lines.push(
      '## Idle connections (agentwire, one edge)',
      '',
      `${i.opened}/${i.requested} opened in ${fmt(i.connectSeconds)} s (edge reports ${i.edgeReportedConnections}).`,
      `Edge RSS ${fmt(i.rssBeforeMiB)} MiB before, ${fmt(i.rssOpenMiB)} MiB open, ${fmt(i.rssAfterCloseMiB)} MiB after closing:`,
      `**${fmt(i.kibPerConnection, 2)} KiB per connection** (V8 heap ${fmt(i.heapKibPerConnection, 2)} KiB of it).`,
      '',
    );
  }
  if (r.resume) {
    const k = r.resume.kill;
    const s = r.resume.replay;
    lines.push(
      '## Resume storms (agentwire, 2 edges, 1 buffer)',
      '',
      `**Edge SIGKILL**: ${k.clients} clients over two edges, ${k.ratePerSec} critical events/s throughout; one edge killed while holding ${k.affected} clients (first retry within 100 ms, jittered, to the other edge, resuming with lastSeq).`,
      '',
      '| per affected client | n | p50 | p90 | p99 | max |',
      '| --- | ---: | ---: | ---: | ---: | ---: |',
      `| kill -> the client sees the close (ms) | ${k.killToCloseMs.count} | ${fmt(k.killToCloseMs.p50, 0)} | ${fmt(k.killToCloseMs.p90, 0)} | ${fmt(k.killToCloseMs.p99, 0)} | ${fmt(k.killToCloseMs.max, 0)} |`,
      `| kill -> welcome on the other edge (ms) | ${k.killToWelcomeMs.count} | ${fmt(k.killToWelcomeMs.p50, 0)} | ${fmt(k.killToWelcomeMs.p90, 0)} | ${fmt(k.killToWelcomeMs.p99, 0)} | ${fmt(k.killToWelcomeMs.max, 0)} |`,
      `| kill -> first event on the new socket (ms) | ${k.killToFirstEventMs.count} | ${fmt(k.killToFirstEventMs.p50, 0)} | ${fmt(k.killToFirstEventMs.p90, 0)} | ${fmt(k.killToFirstEventMs.p99, 0)} | ${fmt(k.killToFirstEventMs.max, 0)} |`,
      '',
      `Whole run: ${k.fleet.passed ? 'no loss, no duplicate' : `FAILED: ${k.fleet.failures.join('; ')}`}; ${k.fleet.delivery.redelivered} replayed events deduped by the clients. The issue's bar is p99 < 1 s: ${k.killToFirstEventMs.p99 < 1000 && k.recovered === k.affected ? 'met' : 'NOT met'}.`,
      '',
      `**Replay storm**: ${s.eventsPerUser} events for each of ${s.users} users published with nobody connected (sequenced ${fmt(s.sequencedAfterSec)} s after the last 202), then ${s.clients} clients say hello with lastSeq 0 at once: ${s.done}/${s.clients} had all their events after **${fmt(s.totalMs, 0)} ms** (per client p50 ${fmt(s.perClientDoneMs.p50, 0)} ms, p99 ${fmt(s.perClientDoneMs.p99, 0)} ms); ${s.connectFailed} failed to connect; lost ${s.delivery.lost}, duplicates ${s.delivery.duplicates}.`,
      '',
    );
  }
  if (charts.length > 0) {
    lines.push('## Plots', '');
    for (const chart of charts) lines.push(`![${chart.title}](${chart.file})`, '');
  }
  lines.push('## Settings', '', '```json', JSON.stringify(report.settings, null, 2), '```', '');
  return lines.join('\n');
}

/**
 * Mean CPU over the system's run of its own processes, of the load generator
 * and of the whole machine: what is left over is other work on the host.
 */
export function cpuContext(run: Pick<SystemRun, 'pids' | 'samples'>): string {
  const mean = (name: string): number => {
    const samples = run.samples.find((proc) => proc.name === name)?.samples ?? [];
    if (samples.length === 0) return Number.NaN;
    return samples.reduce((sum, sample) => sum + sample.cpuPercent, 0) / samples.length;
  };
  const own = run.pids.reduce((sum, { name }) => sum + (mean(name) || 0), 0);
  const loadgen = mean('loadgen');
  const machine = mean(MACHINE);
  const other = machine - own - loadgen;
  return `Mean CPU over this run, in % of one core: the system ${fmt(own, 0)}, the load generator ${fmt(loadgen, 0)}, the whole machine ${fmt(machine, 0)} (other work on the host: ${fmt(other, 0)}).`;
}

function systemSection(run: SystemRun): string[] {
  const lines = [
    `## ${run.system}`,
    '',
    `Processes: ${run.pids.map((p) => `${p.name} (${p.pid})`).join(', ')}. Redis ${run.redisVersion}, ${run.redisPersistence}.`,
    '',
    cpuContext(run),
    '',
  ];
  const phases = [
    ...(run.latency ? [['latency', run.latency] as const] : []),
    ...(run.cpu ? [['CPU', run.cpu.phase] as const] : []),
  ];
  if (phases.length > 0) {
    lines.push(
      '| phase | rate | published/s | accepted | p50 ms | p90 ms | p99 ms | max ms | generator loop delay p99 / max ms | lost | dup | result |',
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
    );
    for (const [name, phase] of phases) {
      const l = phase.latencyFromSendMs;
      lines.push(
        `| ${name} | ${phase.rate} | ${fmt(phase.achievedRate, 0)} | ${phase.accepted} | ${fmt(l.p50)} | ${fmt(l.p90)} | ${fmt(l.p99)} | ${fmt(l.max)} | ${loopDelay(phase.generatorLoopDelayMs)} | ${phase.delivery.lost} | ${phase.delivery.duplicates} | ${phase.passed ? 'ok' : phase.failures.join('; ')} |`,
      );
    }
    lines.push('');
  }
  const rounds = run.latencyRounds ?? [];
  if (rounds.length > 1) {
    lines.push(
      `Latency rounds (each on a fresh stack, in the order run; the table above shows the one with the median p50), p50 / p99 ms: ${rounds
        .map(
          (round) =>
            `${fmt(round.phase.latencyFromSendMs.p50)} / ${fmt(round.phase.latencyFromSendMs.p99)}`,
        )
        .join(', ')}.`,
      '',
    );
  }
  const sequenced = run.latencyToSequencedMs;
  if (sequenced && sequenced.count > 0) {
    lines.push(
      `Of the latency phase, from the POST to the event's sequencing (its inbox entry, within half a millisecond; ${sequenced.count} events): p50 ${fmt(sequenced.p50)}, p90 ${fmt(sequenced.p90)}, p99 ${fmt(sequenced.p99)}, mean ${fmt(sequenced.mean)} ms. The rest of each event's latency is the edge's delivery.`,
      '',
    );
  }
  if (run.cpu) {
    const cpu = run.cpu.cpu;
    lines.push(
      `CPU over ${fmt(cpu.windowSec)} s (publish start until every event arrived), ${cpu.events} events (each to ${fmt(run.cpu.phase.clients / run.cpu.phase.users, 0)} connections):`,
      '',
      '| role | processes | CPU s | µs per event | wake-ups per event |',
      '| --- | --- | ---: | ---: | ---: |',
      ...cpu.roles.map(
        (role) =>
          `| ${role.role} | ${role.processes.join(', ')} | ${fmt(role.cpuSeconds, 2)} | ${fmt(role.usPerEvent)} | ${fmt(role.wakeUpsPerEvent, 2)} |`,
      ),
      `| total | | ${fmt(cpu.total.cpuSeconds, 2)} | ${fmt(cpu.total.usPerEvent)} | ${fmt(cpu.total.wakeUpsPerEvent, 2)} |`,
      '',
    );
  }
  if (run.throughput) {
    const t = run.throughput;
    lines.push(
      `Rate search: highest passing **${rate(t.highestPassingRate)}**${t.firstFailingRate === null ? ' (every step passed)' : `, first failing ${t.firstFailingRate}/s`}.`,
      '',
      '| rate | published/s | p50 ms | p99 ms | worst second p99 ms | generator loop delay p99 / max ms | lost | dup | result |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
      ...t.steps.map(
        (step) =>
          `| ${step.rate} | ${fmt(step.achievedRate, 0)} | ${fmt(step.p50Ms)} | ${fmt(step.p99Ms)} | ${fmt(step.worstSecondP99Ms)} | ${loopDelay(step.generatorLoopDelayMs)} | ${step.lost} | ${step.duplicates} | ${step.passed ? 'pass' : step.reasons.join('; ')} |`,
      ),
      '',
    );
  }
  return lines;
}

/** The appends part: both searches, step by step in the order they ran, with CPU per event. */
function appendsSection(run: AppendsRun): string[] {
  const { noncritical, appends } = run.searches;
  const steps = [...noncritical.steps, ...appends.steps];
  const cpus = [
    ...steps.map((step) => step.cpu),
    ...(run.capacity?.rounds.flat().map((capacityRun) => capacityRun.cpu) ?? []),
  ];
  const roles = [...new Set(cpus.flatMap((cpu) => cpu.roles.map((role) => role.role)))];
  const verdict = (search: typeof appends): string =>
    `**${rate(search.highestPassingRate)}**${search.firstFailingRate === null ? ' (every step passed)' : `, lowest failing ${search.firstFailingRate.toLocaleString('en-US')}/s`}`;
  const lines = [
    '## Appends against non-critical events (agentwire, 2 edges, 1 buffer)',
    '',
    `Processes: ${run.pids.map((p) => `${p.name} (${p.pid})`).join(', ')}. Redis ${run.redisVersion}, ${run.redisPersistence}.`,
    '',
    cpuContext(run),
    '',
    'Both kinds carry the same 5-20 bytes of text per event: appends to one run per user',
    '(`runId`, `stream`, `append`), plain non-critical events with those fields inside `data`.',
    'Searched interleaved on the same stack with the same fleet. An appends step passes only',
    'when every append arrived live with contiguous chunks and the text sent for its id, and',
    "every client's text equals the server's snapshot (GET /v1/runs) at the end.",
    '',
  ];
  if (run.capacity) lines.push(...capacityLines(run.capacity, roles));
  lines.push(
    '### Rate search',
    '',
    `Highest passing: non-critical ${verdict(noncritical)}; appends ${verdict(appends)}; ratio **${fmt(run.ratio, 2)}**.`,
    '',
    'Latency from the start of the POST (p50, p99) and from the ingest `ts` the edge stamped (the',
    "part after ingest: sequencing, persisting, delivery). Delivered: every client's events, for",
    'appends also how many came live and how many in a snapshot.',
    '',
    `| kind | rate | published/s | p50 ms | p99 ms | after ingest p50 / p99 ms | ${roles.map((role) => `${role} µs/event`).join(' | ')} | total µs/event | delivered (live / by snapshot) | result |`,
    `| --- | ---: | ---: | ---: | ---: | ---: | ${roles.map(() => '---:').join(' | ')} | ---: | --- | --- |`,
  );
  const ordered = steps
    .map((step, i) => ({ step, i }))
    .sort((a, b) => a.step.rate - b.step.rate || a.i - b.i);
  for (const { step } of ordered) {
    const n = step.nonCritical;
    const perRole = roles.map((role) =>
      fmt(step.cpu.roles.find((r) => r.role === role)?.usPerEvent),
    );
    lines.push(
      `| ${step.kind} | ${step.rate} | ${fmt(step.achievedRate, 0)} | ${fmt(step.p50Ms)} | ${fmt(step.p99Ms)} | ${fmt(step.fromIngestP50Ms)} / ${fmt(step.fromIngestP99Ms)} | ${perRole.join(' | ')} | ${fmt(step.cpu.total.usPerEvent)} | ${n ? `${n.delivered}${step.kind === 'appends' ? ` (${n.live} / ${n.bySnapshot})` : ''}` : ''} | ${step.passed ? 'pass' : step.reasons.join('; ')} |`,
    );
  }
  lines.push('');
  return lines;
}

/** The capacity runs, round by round, and their means. */
function capacityLines(capacity: CapacityComparison, roles: readonly string[]): string[] {
  const lines = [
    '### Capacity',
    '',
    `${capacity.events.toLocaleString('en-US')} events of each kind offered at ${capacity.offeredRate.toLocaleString('en-US')}/s (far more than the system takes), ${capacity.rounds.length} rounds, the order alternating. Ingest took: accepted events / seconds until the last POST was answered. Sustained: accepted events / seconds from the start of publishing to the last delivery; CPU per event over the same window.`,
    '',
    `Means: non-critical **${fmt(capacity.meanRate.noncritical, 0)}/s**, appends **${fmt(capacity.meanRate.appends, 0)}/s**, ratio **${fmt(capacity.rateRatio, 2)}**; CPU per event ${fmt(capacity.meanCpuUsPerEvent.noncritical)} and ${fmt(capacity.meanCpuUsPerEvent.appends)} µs, ratio ${fmt(capacity.cpuRatio, 2)}.`,
    '',
    `| round | kind | accepted | ingest took/s | sustained/s | p50 ms | p99 ms | ${roles.map((role) => `${role} µs/event`).join(' | ')} | total µs/event | delivered (live / by snapshot) | result |`,
    `| ---: | --- | ---: | ---: | ---: | ---: | ---: | ${roles.map(() => '---:').join(' | ')} | ---: | --- | --- |`,
  ];
  capacity.rounds.forEach((round, r) => {
    for (const run of round) {
      const n = run.nonCritical;
      const perRole = roles.map((role) =>
        fmt(run.cpu.roles.find((x) => x.role === role)?.usPerEvent),
      );
      lines.push(
        `| ${r + 1} | ${run.kind} | ${run.accepted} | ${fmt(run.acceptedRate, 0)} | ${fmt(run.sustainedRate, 0)} | ${fmt(run.p50Ms)} | ${fmt(run.p99Ms)} | ${perRole.join(' | ')} | ${fmt(run.cpu.total.usPerEvent)} | ${n ? `${n.delivered}${run.kind === 'appends' ? ` (${n.live} / ${n.bySnapshot})` : ''}` : ''} | ${run.passed ? 'ok' : run.failures.join('; ')} |`,
      );
    }
  });
  lines.push('');
  return lines;
}
