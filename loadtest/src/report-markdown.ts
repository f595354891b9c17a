import { int, ms } from './console-summary.js';
import { otherCpuByPhase } from './phase-stats.js';
import { MACHINE } from './process-sampler.js';
import type { ReportChart } from './report-charts.js';
import { isFleet, isIngest, type RunReport } from './run-report.js';

/** report.md: the tables a reader wants first, then the plots. */
export function reportMarkdown(report: RunReport, charts: readonly ReportChart[]): string {
  const lines: string[] = [];
  const m = report.machine;
  lines.push(`# agentwire load test, ${report.createdAt}`, '');
  lines.push(
    report.passed ? 'Result: **PASS**' : `Result: **FAIL** (${report.failures.join('; ')})`,
    '',
  );
  lines.push('## Machine', '');
  lines.push(`- ${m.nproc} CPUs, ${m.cpuModel}, ${m.memoryGiB} GiB RAM, Linux ${m.kernel}`);
  lines.push(`- Node ${m.node}, Redis ${m.redis}`);
  lines.push(
    'targets' in report.system
      ? "- This is the load generator's machine; the targets may run elsewhere."
      : '- Load generator, services and Redis share this machine.',
    '',
  );
  lines.push('## System under test', '');
  if ('targets' in report.system) {
    lines.push(`Existing deployment: ${report.system.targets.join(', ')}`, '');
  } else {
    lines.push(
      `${report.system.edges} edge(s), ${report.system.buffers} buffer(s), private Redis (${report.system.redisPersistence}). Environment:`,
      '',
    );
    lines.push('```');
    for (const [key, value] of Object.entries(report.system.env).sort())
      lines.push(`${key}=${value}`);
    lines.push('```', '');
  }
  lines.push('Command:', '', '```', report.command, '```', '');

  const ingests = report.phases.filter((phase) => isIngest(phase.result));
  if (ingests.length > 0) {
    lines.push('## Ingest (POST /v1/events, autocannon)', '');
    lines.push(
      '| phase | batch | connections | seconds | requests/s | events/s | p50 ms | p90 ms | p99 ms | max ms | status codes | errors |',
    );
    lines.push(
      '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |',
    );
    for (const phase of ingests) {
      const r = phase.result;
      if (!isIngest(r)) continue;
      const codes = Object.entries(r.statusCodes)
        .map(([code, count]) => `${code}: ${int(count)}`)
        .join(', ');
      lines.push(
        `| ${phase.name} | ${r.batchSize} | ${r.connections} | ${r.durationSec} | ${int(r.requests.perSec)} | ${int(r.events.perSec)} | ${ms(r.latencyMs.p50)} | ${ms(r.latencyMs.p90)} | ${ms(r.latencyMs.p99)} | ${ms(r.latencyMs.max)} | ${codes} | ${r.errors} |`,
      );
    }
    lines.push('');
  }
  if (report.bufferCatchUp.length > 0) {
    lines.push('## Buffer keeping up with ingest', '');
    lines.push(
      'Ingest answers 202 once events are in the ingest streams; the buffer sequences, persists and forwards them behind it.',
      '',
    );
    lines.push(
      '| phase | events processed | backlog at phase end | caught up after phase end (s) | buffer events/s |',
    );
    lines.push('| --- | ---: | ---: | ---: | ---: |');
    for (const c of report.bufferCatchUp) {
      const seconds = Math.max(c.caughtUpSec - c.phaseStartSec, 0.001);
      const after = c.drained
        ? (c.caughtUpSec - c.phaseEndSec).toFixed(1)
        : 'not within the timeout';
      lines.push(
        `| ${c.name} | ${int(c.processed)} | ${int(c.backlogAtPhaseEnd)} | ${after} | ${int(c.processed / seconds)} |`,
      );
    }
    lines.push('');
  }

  const fleets = report.phases.filter((phase) => isFleet(phase.result));
  if (fleets.length > 0) {
    lines.push('## WebSocket fleet (critical events, end to end)', '');
    lines.push("Latency: client receive time minus the event's ingest `ts` (same host clock).", '');
    lines.push(
      '| phase | clients | users | events/s | seconds | p50 ms | p90 ms | p99 ms | max ms | from POST p50 / p99 ms |',
    );
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const phase of fleets) {
      const r = phase.result;
      if (!isFleet(r)) continue;
      const l = r.latencyFromIngestMs;
      lines.push(
        `| ${phase.name} | ${r.connect.ok}/${r.clients} | ${r.users} | ${r.ratePerSec} | ${r.durationSec} | ${ms(l.p50)} | ${ms(l.p90)} | ${ms(l.p99)} | ${ms(l.max)} | ${ms(r.latencyFromSendMs.p50)} / ${ms(r.latencyFromSendMs.p99)} |`,
      );
    }
    lines.push(
      '',
      '| phase | published (202) | expected deliveries | delivered | lost | duplicated | out of order | unexpected | foreign | reconnects | result |',
    );
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
    for (const phase of fleets) {
      const r = phase.result;
      if (!isFleet(r)) continue;
      const d = r.delivery;
      lines.push(
        `| ${phase.name} | ${int(r.publisher.accepted)} | ${int(d.expected)} | ${int(d.delivered)} | ${int(d.lost)} | ${int(d.duplicates)} | ${int(d.outOfOrder)} | ${int(d.unexpected)} | ${int(d.foreign)} | ${r.reconnects} | ${r.passed ? 'pass' : `FAIL: ${r.failures.join('; ')}`} |`,
      );
    }
    lines.push('');
  }

  if (report.processStats.length > 0) {
    lines.push('## CPU and memory per process', '');
    lines.push(
      'CPU in % of one core (200 % = both cores of a 2-core machine), averaged over the phase.',
      '',
    );
    lines.push('| phase | process | CPU avg % | CPU max % | RSS max MiB | RSS end MiB |');
    lines.push('| --- | --- | ---: | ---: | ---: | ---: |');
    const other = otherCpuByPhase(report.processStats, MACHINE);
    // A window shorter than one sampling interval has no samples: nothing to show.
    const rows = report.processStats.filter((r) => r.samples > 0);
    rows.forEach((row, i) => {
      lines.push(
        `| ${row.phase} | ${row.process} | ${fixed(row.cpuAvg, 0)} | ${fixed(row.cpuMax, 0)} | ${fixed(row.rssMaxMiB, 1)} | ${fixed(row.rssEndMiB, 1)} |`,
      );
      const lastOfPhase = rows[i + 1]?.phase !== row.phase;
      const otherCpu = other.get(row.phase);
      if (lastOfPhase && otherCpu !== undefined) {
        lines.push(
          `| ${row.phase} | other work on the host (machine minus the above) | ${fixed(otherCpu, 0)} | | | |`,
        );
      }
    });
    lines.push('');
  }

  lines.push('## Plots', '');
  for (const chart of charts)
    lines.push(`### ${chart.title}`, '', `![${chart.title}](${chart.file})`, '');
  return `${lines.join('\n')}\n`;
}

function fixed(value: number, digits: number): string {
  return Number.isFinite(value) ? value.toFixed(digits) : '-';
}
