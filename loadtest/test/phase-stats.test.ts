import { describe, expect, it } from 'vitest';
import { otherCpuByPhase, processStatsByPhase } from '../src/phase-stats.js';

describe('processStatsByPhase', () => {
  const MiB = 1024 * 1024;
  const edge = {
    name: 'edge-0',
    pid: 1,
    samples: [
      { t: 0.5, cpuPercent: 10, rssBytes: 50 * MiB },
      { t: 1.0, cpuPercent: 90, rssBytes: 80 * MiB },
      { t: 1.5, cpuPercent: 50, rssBytes: 70 * MiB },
      { t: 5.0, cpuPercent: 5, rssBytes: 60 * MiB },
    ],
  };

  it('averages CPU and takes the largest and last RSS within each window', () => {
    const [row] = processStatsByPhase([edge], [{ name: 'load', startSec: 0.6, endSec: 2 }]);
    expect(row).toMatchObject({
      process: 'edge-0',
      phase: 'load',
      samples: 2,
      cpuAvg: 70,
      cpuMax: 90,
    });
    expect(row?.rssMaxMiB).toBe(80);
    expect(row?.rssEndMiB).toBe(70);
  });

  it('reports a phase with no samples as unmeasured', () => {
    const [row] = processStatsByPhase([edge], [{ name: 'gap', startSec: 2, endSec: 4 }]);
    expect(row?.samples).toBe(0);
    expect(row?.cpuAvg).toBeNaN();
  });
});

describe('otherCpuByPhase', () => {
  it('is the machine CPU minus the sampled processes, per phase, never negative', () => {
    const row = (phase: string, process: string, cpuAvg: number) => ({
      phase,
      process,
      cpuAvg,
      samples: 1,
      cpuMax: cpuAvg,
      rssMaxMiB: 1,
      rssEndMiB: 1,
    });
    const other = otherCpuByPhase(
      [
        row('a', 'edge', 40),
        row('a', 'redis', 20),
        row('a', 'machine', 100),
        row('b', 'edge', 50),
        row('b', 'machine', 45),
      ],
      'machine',
    );
    expect(other.get('a')).toBe(40);
    expect(other.get('b')).toBe(0);
  });
});
