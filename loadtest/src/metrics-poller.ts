import { sumMetric } from './prometheus-text.js';

/** One scrape: seconds since the poller's time origin, then one value per metric name. */
export interface MetricPoint {
  t: number;
  values: Record<string, number>;
}

export interface PolledTarget {
  name: string;
  url: string;
  points: MetricPoint[];
}

const MAX_POINTS = 1200;

/**
 * Scrapes GET /metrics of some processes every `intervalMs` and keeps the sums
 * of a few metrics, e.g. the buffer's processed-events counter, to plot how
 * fast the backlog drains. A failed scrape is skipped.
 */
export class MetricsPoller {
  readonly targets: PolledTarget[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly metricNames: readonly string[],
    private readonly originMs: number,
    private readonly intervalMs = 1000,
  ) {}

  add(name: string, baseUrl: string): void {
    this.targets.push({ name, url: new URL('/metrics', baseUrl).href, points: [] });
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.scrapeAll(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Scrapes one target now and returns the metric sums (NaN for a failed scrape). */
  async scrape(target: PolledTarget): Promise<Record<string, number>> {
    const values: Record<string, number> = {};
    try {
      const res = await fetch(target.url, { signal: AbortSignal.timeout(2000) });
      const text = await res.text();
      for (const metric of this.metricNames) values[metric] = sumMetric(text, metric);
    } catch {
      for (const metric of this.metricNames) values[metric] = Number.NaN;
    }
    return values;
  }

  private async scrapeAll(): Promise<void> {
    await Promise.all(
      this.targets.map(async (target) => {
        const values = await this.scrape(target);
        if (target.points.length < MAX_POINTS) {
          target.points.push({ t: (Date.now() - this.originMs) / 1000, values });
        }
      }),
    );
  }
}

/** Per-second rate of a counter series (difference of neighbours over their time gap). */
export function counterRate(
  points: readonly MetricPoint[],
  metric: string,
): Array<[number, number]> {
  const rates: Array<[number, number]> = [];
  for (let i = 1; i < points.length; i++) {
    const previous = points[i - 1] as MetricPoint;
    const current = points[i] as MetricPoint;
    const delta = (current.values[metric] ?? Number.NaN) - (previous.values[metric] ?? Number.NaN);
    const dt = current.t - previous.t;
    // A restart resets a counter; a negative rate would be nonsense.
    if (Number.isFinite(delta) && dt > 0 && delta >= 0) rates.push([current.t, delta / dt]);
  }
  return rates;
}
