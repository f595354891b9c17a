import type { SampledProcess } from './process-sampler.js';

/** A named stretch of a run, in seconds on the sampler's clock. */
export interface PhaseWindow {
  name: string;
  startSec: number;
  endSec: number;
}

/** CPU and memory of one process during one phase. */
export interface ProcessPhaseStats {
  process: string;
  phase: string;
  samples: number;
  /** Mean CPU%, of one core. */
  cpuAvg: number;
  cpuMax: number;
  rssMaxMiB: number;
  rssEndMiB: number;
}

const MIB = 1024 * 1024;

/** Summarises every process's samples within every phase window (samples at the edges included). */
export function processStatsByPhase(
  processes: readonly SampledProcess[],
  phases: readonly PhaseWindow[],
): ProcessPhaseStats[] {
  const rows: ProcessPhaseStats[] = [];
  for (const phase of phases) {
    for (const proc of processes) {
      const inside = proc.samples.filter((s) => s.t >= phase.startSec && s.t <= phase.endSec);
      if (inside.length === 0) {
        rows.push({
          process: proc.name,
          phase: phase.name,
          samples: 0,
          cpuAvg: Number.NaN,
          cpuMax: Number.NaN,
          rssMaxMiB: Number.NaN,
          rssEndMiB: Number.NaN,
        });
        continue;
      }
      let cpuSum = 0;
      let cpuMax = 0;
      let rssMax = 0;
      for (const sample of inside) {
        cpuSum += sample.cpuPercent;
        cpuMax = Math.max(cpuMax, sample.cpuPercent);
        rssMax = Math.max(rssMax, sample.rssBytes);
      }
      rows.push({
        process: proc.name,
        phase: phase.name,
        samples: inside.length,
        cpuAvg: cpuSum / inside.length,
        cpuMax,
        rssMaxMiB: rssMax / MIB,
        rssEndMiB: (inside[inside.length - 1]?.rssBytes ?? Number.NaN) / MIB,
      });
    }
  }
  return rows;
}

/**
 * CPU of everything else on the host per phase: the machine's average minus
 * the sampled processes' averages (never below 0). On a shared host this says
 * how much the numbers of a phase were disturbed.
 */
export function otherCpuByPhase(
  rows: readonly ProcessPhaseStats[],
  machineName: string,
): Map<string, number> {
  const machine = new Map<string, number>();
  const ours = new Map<string, number>();
  for (const row of rows) {
    if (!Number.isFinite(row.cpuAvg)) continue;
    if (row.process === machineName) machine.set(row.phase, row.cpuAvg);
    else ours.set(row.phase, (ours.get(row.phase) ?? 0) + row.cpuAvg);
  }
  const other = new Map<string, number>();
  for (const [phase, total] of machine)
    other.set(phase, Math.max(0, total - (ours.get(phase) ?? 0)));
  return other;
}
