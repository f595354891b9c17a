import type { FleetResult } from './fleet-runner.js';
import type { IngestBenchResult } from './ingest-benchmark.js';
import type { LatencySummary } from './percentile.js';

/** Milliseconds with one decimal, or "-" when nothing was measured. */
export function ms(value: number): string {
  return Number.isFinite(value) ? value.toFixed(1) : '-';
}

/** An integer with thousands separators. */
export function int(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-';
}

export function latencyLine(summary: LatencySummary): string {
  return `p50 ${ms(summary.p50)} ms, p90 ${ms(summary.p90)} ms, p99 ${ms(summary.p99)} ms, max ${ms(summary.max)} ms (n=${int(summary.count)})`;
}

/** Human-readable lines for an ingest run. */
export function ingestSummaryLines(result: IngestBenchResult): string[] {
  const codes = Object.entries(result.statusCodes)
    .map(([code, count]) => `${code}: ${int(count)}`)
    .join(', ');
  return [
    `ingest ${result.target}: batch ${result.batchSize}, ${result.connections} connections, ${result.durationSec} s, critical share ${result.criticalShare}, ${result.users} users`,
    `  requests/s ${int(result.requests.perSec)}  events/s ${int(result.events.perSec)}  (accepted ${int(result.events.accepted)} events)`,
    `  latency p50 ${ms(result.latencyMs.p50)} ms, p90 ${ms(result.latencyMs.p90)} ms, p99 ${ms(result.latencyMs.p99)} ms, max ${ms(result.latencyMs.max)} ms`,
    `  status codes ${codes || 'none'}; errors ${result.errors}, timeouts ${result.timeouts}`,
  ];
}

/** Human-readable lines for a fleet run. */
export function fleetSummaryLines(result: FleetResult): string[] {
  const d = result.delivery;
  const n = result.nonCritical;
  return [
    `fleet: ${result.connect.ok}/${result.clients} clients (${result.users} users) connected in ${result.connect.seconds.toFixed(1)} s; ${result.ratePerSec} ${result.events ?? 'critical'} events/s for ${result.durationSec} s`,
    `  published ${int(result.publisher.accepted)} accepted, ${int(result.publisher.failed)} failed, max backlog ${int(result.publisher.maxBacklog)}`,
    `  end-to-end from ingest ts: ${latencyLine(result.latencyFromIngestMs)}`,
    `  end-to-end from send:      ${latencyLine(result.latencyFromSendMs)}`,
    ...(result.generatorLoopDelayMs
      ? [
          `  generator event-loop delay (part of every figure): p50 ${ms(result.generatorLoopDelayMs.p50)} ms, p99 ${ms(result.generatorLoopDelayMs.p99)} ms, max ${ms(result.generatorLoopDelayMs.max)} ms`,
        ]
      : []),
    `  deliveries expected ${int(d.expected)}, delivered ${int(d.delivered)}, lost ${int(d.lost)}, duplicated ${int(d.duplicates)}, out of order ${int(d.outOfOrder)}, unexpected ${int(d.unexpected)}, foreign ${int(d.foreign)}`,
    ...(n
      ? [
          `  non-critical expected ${int(n.expected)}, delivered ${int(n.delivered)} (live ${int(n.live)}, by snapshot ${int(n.bySnapshot)}), lost ${int(n.lost)}, repeated ${int(n.duplicates)}, chunks skipped ${int(n.gaps)}, wrong text ${int(n.wrongText)}, snapshots ${int(n.snapshots)}`,
        ]
      : []),
    ...(result.runTextCheck
      ? [
          `  run texts against the server: ${int(result.runTextCheck.checked)} checked, ${int(result.runTextCheck.mismatches)} differ, ${int(result.runTextCheck.unchecked)} unchecked`,
        ]
      : []),
    `  reconnects ${result.reconnects}${closesText(result.unexpectedCloses)}, redelivered after resume ${int(d.redelivered)}, users with problems ${d.usersWithProblems}`,
    result.passed ? '  PASS' : `  FAIL: ${result.failures.join('; ')}`,
  ];
}

function closesText(closes: Record<string, number>): string {
  const entries = Object.entries(closes);
  if (entries.length === 0) return '';
  return ` (unexpected closes: ${entries.map(([code, count]) => `${code} x${count}`).join(', ')})`;
}
