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
