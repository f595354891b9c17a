import { describe, expect, it } from 'vitest';
import { counterRate } from '../src/metrics-poller.js';
import { sumMetric } from '../src/prometheus-text.js';

const TEXT = `# HELP aw_buffer_events_processed_total Ingest entries persisted and forwarded
# TYPE aw_buffer_events_processed_total counter
aw_buffer_events_processed_total{service="buffer",instance="b0"} 1200
aw_buffer_events_processed_total_extra 5
aw_buffer_shard_pending{shard="0"} 3
aw_buffer_shard_pending{shard="1",note="a}b"} 4
aw_edge_connections 42 1764150000123
`;

describe('sumMetric', () => {
  it('sums every label set of a metric and ignores longer names with the same prefix', () => {
    expect(sumMetric(TEXT, 'aw_buffer_events_processed_total')).toBe(1200);
    expect(sumMetric(TEXT, 'aw_buffer_shard_pending')).toBe(7);
  });

  it('reads unlabelled samples with a timestamp and says NaN for an absent metric', () => {
    expect(sumMetric(TEXT, 'aw_edge_connections')).toBe(42);
    expect(sumMetric(TEXT, 'aw_missing')).toBeNaN();
  });
});

describe('counterRate', () => {
  it('turns counter samples into per-second rates and skips resets and gaps', () => {
    const m = 'c';
    const points = [
      { t: 0, values: { c: 0 } },
      { t: 1, values: { c: 100 } },
      { t: 3, values: { c: 500 } },
      { t: 4, values: { c: Number.NaN } },
      { t: 5, values: { c: 10 } },
      { t: 6, values: { c: 60 } },
    ];
    expect(counterRate(points, m)).toEqual([
      [1, 100],
      [3, 200],
      [6, 50],
    ]);
  });
});
