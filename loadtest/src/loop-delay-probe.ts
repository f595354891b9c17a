import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

/** Tick of the probe: fine enough to see a stall of a few ms, rare enough to cost nothing. */
const RESOLUTION_MS = 10;

/** How late the load generator's own event loop ran (ms), while it measured. */
export interface LoopDelaySummary {
  p50: number;
  p99: number;
  max: number;
}

/**
 * Measures the load generator's own event-loop delay. A delivery it reads
 * late is timed late, so every latency figure of the run includes this
 * delay: a p99 of the generator near the run's p99 says the figure is the
 * generator's, not the system's. Node's histogram holds the time between
 * ticks; the delay is that minus the tick (a lower bound of a stall).
 */
export class LoopDelayProbe {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({
    resolution: RESOLUTION_MS,
  });

  start(): void {
    this.histogram.reset();
    this.histogram.enable();
  }

  stop(): LoopDelaySummary {
    this.histogram.disable();
    const delay = (ns: number): number =>
      this.histogram.count === 0 ? Number.NaN : Math.max(0, ns / 1e6 - RESOLUTION_MS);
    return {
      p50: delay(this.histogram.percentile(50)),
      p99: delay(this.histogram.percentile(99)),
      max: delay(this.histogram.max),
    };
  }
}
