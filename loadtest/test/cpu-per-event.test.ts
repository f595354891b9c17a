import { describe, expect, it } from 'vitest';
import { cpuPerEvent, ratio, roleOf } from '../src/cpu-per-event.js';

describe('roleOf', () => {
  it('drops the instance number', () => {
    expect(['edge-0', 'edge-12', 'buffer-1', 'redis', 'redis-2', 'floor'].map(roleOf)).toEqual([
      'edge',
      'edge',
      'buffer',
      'redis',
      'redis',
      'floor',
    ]);
  });
});

describe('cpuPerEvent', () => {
  it('sums the processes of a role and divides CPU time by the events', () => {
    const result = cpuPerEvent(
      [
        { name: 'redis', ticks: 100, wakeUps: 5_000 },
        { name: 'buffer-0', ticks: 50, wakeUps: 2_000 },
        { name: 'edge-0', ticks: 30, wakeUps: 4_000 },
        { name: 'edge-1', ticks: 20, wakeUps: 1_000 },
      ],
      100,
      10_000,
      8,
    );
    // 1 s of Redis CPU over 10,000 events is 100 µs each.
    expect(result.roles).toEqual([
      { role: 'redis', processes: ['redis'], cpuSeconds: 1, usPerEvent: 100, wakeUpsPerEvent: 0.5 },
      {
        role: 'buffer',
        processes: ['buffer-0'],
        cpuSeconds: 0.5,
        usPerEvent: 50,
        wakeUpsPerEvent: 0.2,
      },
      {
        role: 'edge',
        processes: ['edge-0', 'edge-1'],
        cpuSeconds: 0.5,
        usPerEvent: 50,
        wakeUpsPerEvent: 0.5,
      },
    ]);
    expect(result.total).toEqual({ cpuSeconds: 2, usPerEvent: 200, wakeUpsPerEvent: 1.2 });
    expect(result).toMatchObject({ events: 10_000, windowSec: 8 });
  });

  it('leaves out a process that exited mid-window, and gives NaN without events', () => {
    const result = cpuPerEvent(
      [
        { name: 'edge-0', ticks: Number.NaN },
        { name: 'edge-1', ticks: 10 },
      ],
      100,
      0,
      1,
    );
    expect(result.roles).toHaveLength(1);
    expect(result.roles[0]?.processes).toEqual(['edge-1']);
    expect(result.total.cpuSeconds).toBeCloseTo(0.1, 10);
    expect(result.total.usPerEvent).toBeNaN();
  });
});

describe('ratio', () => {
  it('divides, and is NaN when a side is missing or the reference is not positive', () => {
    expect(ratio(50, 200)).toBe(0.25);
    expect(ratio(null, 200)).toBeNaN();
    expect(ratio(50, undefined)).toBeNaN();
    expect(ratio(50, 0)).toBeNaN();
    expect(ratio(Number.NaN, 2)).toBeNaN();
  });
});
