import { Registry, collectDefaultMetrics } from 'prom-client';

export { Counter, Gauge, Histogram, Registry } from 'prom-client';

/**
 * How often the event loop lag is sampled (ms). prom-client's default of 10
 * is a timer waking every process 100 times a second, busy or not; measured
 * on the 2-core benchmark VM, a wake-up costs a process 100-300 us of CPU,
 * so that timer alone was 1-3 % of a core per process (docs/benchmarks.md).
 * Lag spikes shorter than this still show in the histogram's max.
 */
const EVENT_LOOP_SAMPLE_MS = 200;

/** A Prometheus registry with the Node process metrics, one per process. */
export function createMetricsRegistry(labels: Record<string, string>): Registry {
  const registry = new Registry();
  registry.setDefaultLabels(labels);
  collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  return registry;
}

/** Latency buckets in seconds, from 0.5 ms to 10 s. */
export const latencyBuckets = [
  0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];
