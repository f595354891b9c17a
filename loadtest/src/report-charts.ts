import { counterRate } from './metrics-poller.js';
import { isFleet, isIngest, type RunReport } from './run-report.js';
import {
  barChartSvg,
  formatNumber,
  lineChartSvg,
  type ChartMarker,
  type LineSeries,
} from './svg-chart.js';

export interface ReportChart {
  file: string;
  title: string;
  svg: string;
}

const MIB = 1024 * 1024;
export const PROCESSED_METRIC = 'aw_buffer_events_processed_total';

/** Every plot of a run report, as self-contained SVG documents. */
export function reportCharts(report: RunReport): ReportChart[] {
  const markers: ChartMarker[] = report.phases.map((phase) => ({
    x: phase.startSec,
    label: phase.name,
  }));
  const charts: ReportChart[] = [];

  charts.push({
    file: 'cpu.svg',
    title: 'CPU per process',
    svg: lineChartSvg({
      title: 'CPU per process (% of one core, sampled every 500 ms)',
      xLabel: 'seconds since start',
      yLabel: 'CPU %',
      series: report.processes.map((proc) => ({
        name: proc.name,
        points: proc.samples.map((s) => [s.t, s.cpuPercent] as const),
      })),
      markers,
    }),
  });
  charts.push({
    file: 'rss.svg',
    title: 'RSS per process',
    svg: lineChartSvg({
      title: 'Resident memory per process',
      xLabel: 'seconds since start',
      yLabel: 'RSS MiB',
      // The machine pseudo-process has CPU samples only.
      series: report.processes
        .filter((proc) => proc.samples.some((s) => Number.isFinite(s.rssBytes)))
        .map((proc) => ({
          name: proc.name,
          points: proc.samples.map((s) => [s.t, s.rssBytes / MIB] as const),
        })),
      markers,
    }),
  });

  const throughput: LineSeries[] = [];
  for (const phase of report.phases) {
    const result = phase.result;
    if (isIngest(result)) {
      throughput.push({
        name: `${phase.name}: ingest accepted events/s`,
        points: result.perSecond.map(
          (p) => [phase.startSec + p.t + 0.5, p.acceptedEvents] as const,
        ),
      });
    } else if (isFleet(result)) {
      const offset = (result.publishStartMs - report.originEpochMs) / 1000;
      throughput.push({
        name: `${phase.name}: delivered/s`,
        points: result.perSecond.map((p) => [offset + p.t + 0.5, p.delivered] as const),
      });
    }
  }
  for (const target of report.metrics) {
    const rate = counterRate(target.points, PROCESSED_METRIC);
    if (rate.length > 0)
      throughput.push({ name: `${target.name}: processed events/s`, points: rate });
  }
  charts.push({
    file: 'throughput.svg',
    title: 'Throughput over time',
    svg: lineChartSvg({
      title: 'Throughput over time',
      xLabel: 'seconds since start',
      yLabel: 'events per second',
      series: throughput,
      markers,
    }),
  });

  const fleets = report.phases.filter((phase) => isFleet(phase.result));
  if (fleets.length > 0) {
    const categories = ['p50', 'p75', 'p90', 'p95', 'p99', 'p99.9', 'p100'];
    charts.push({
      file: 'fleet-latency-percentiles.svg',
      title: 'End-to-end latency percentiles',
      svg: barChartSvg({
        title: 'End-to-end latency (ingest ts to client receive)',
        xLabel: 'percentile (p100 = max)',
        yLabel: 'ms',
        categories,
        series: fleets.map((phase) => ({
          name: phase.name,
          values: categories.map((c) =>
            isFleet(phase.result)
              ? (phase.result.latencyPercentilesMs[c] ?? Number.NaN)
              : Number.NaN,
          ),
        })),
      }),
    });
    for (const phase of fleets) {
      if (!isFleet(phase.result)) continue;
      const bins = phase.result.latencyDistribution;
      charts.push({
        file: `latency-histogram-${slug(phase.name)}.svg`,
        title: `Latency histogram, ${phase.name}`,
        svg: barChartSvg({
          title: `End-to-end latency histogram, ${phase.name}`,
          xLabel: 'latency (ms, bin start; the last bin with "+" holds the tail beyond p99.9)',
          yLabel: 'deliveries',
          categories: bins.map((bin, i) =>
            i === bins.length - 1 && i > 0 && bin.upperMs - bin.lowerMs !== (bins[0]?.upperMs ?? 0)
              ? `${formatNumber(bin.lowerMs)}+`
              : formatNumber(bin.lowerMs),
          ),
          series: [{ name: 'deliveries', values: bins.map((bin) => bin.count) }],
        }),
      });
    }
    charts.push({
      file: 'fleet-latency-over-time.svg',
      title: 'End-to-end latency over time',
      svg: lineChartSvg({
        title: 'End-to-end latency per second of publishing',
        xLabel: 'seconds since publishing started',
        yLabel: 'ms',
        series: fleets.flatMap((phase) =>
          isFleet(phase.result)
            ? [
                {
                  name: `${phase.name} p50`,
                  points: phase.result.perSecond.map((p) => [p.t, p.p50] as const),
                },
                {
                  name: `${phase.name} p99`,
                  points: phase.result.perSecond.map((p) => [p.t, p.p99] as const),
                },
              ]
            : [],
        ),
      }),
    });
  }

  const ingests = report.phases.filter((phase) => isIngest(phase.result));
  if (ingests.length > 0) {
    const categories = ['p50', 'p90', 'p99', 'max'] as const;
    charts.push({
      file: 'ingest-latency.svg',
      title: 'Ingest request latency',
      svg: barChartSvg({
        title: 'POST /v1/events latency (autocannon)',
        xLabel: 'percentile',
        yLabel: 'ms',
        categories: [...categories],
        series: ingests.map((phase) => ({
          name: phase.name,
          values: categories.map((c) =>
            isIngest(phase.result) ? phase.result.latencyMs[c] : Number.NaN,
          ),
        })),
      }),
    });
  }
  return charts;
}

/** A file-name-safe form of a phase name. */
export function slug(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
}
