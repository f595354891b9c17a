import { describe, expect, it } from 'vitest';
import {
  judgeRateStep,
  searchRates,
  searchRatesByKind,
  type RateStep,
} from '../src/rate-search.js';
import { fleetResult } from './fleet-result-fixture.js';

function step(rate: number, passed: boolean): RateStep {
  return {
    rate,
    achievedRate: rate,
    accepted: rate,
    p50Ms: 1,
    p99Ms: passed ? 10 : 500,
    lost: 0,
    duplicates: 0,
    passed,
    reasons: passed ? [] : ['too slow'],
  };
}

describe('searchRates', () => {
  it('steps up in ascending order and stops at the first failing step', async () => {
    const tried: number[] = [];
    const result = await searchRates([5000, 2000, 10_000, 15_000, 20_000], async (rate) => {
      tried.push(rate);
      return step(rate, rate < 15_000);
    });
    expect(tried).toEqual([2000, 5000, 10_000, 15_000]);
    expect(result.highestPassingRate).toBe(10_000);
    expect(result.firstFailingRate).toBe(15_000);
    expect(result.steps.map((s) => s.passed)).toEqual([true, true, true, false]);
  });

  it('reports no passing rate when the first step fails, and no failing one when all pass', async () => {
    const none = await searchRates([2000, 5000], async (rate) => step(rate, false));
    expect(none).toMatchObject({ highestPassingRate: null, firstFailingRate: 2000 });
    expect(none.steps).toHaveLength(1);
    const all = await searchRates([2000, 2000, 5000], async (rate) => step(rate, true));
    expect(all).toMatchObject({ highestPassingRate: 5000, firstFailingRate: null });
    expect(all.steps).toHaveLength(2); // the repeated rate runs once
  });

  it('narrows the answer down with bisections after the first failure', async () => {
    const tried: number[] = [];
    const result = await searchRates(
      [5000, 10_000, 15_000],
      async (rate) => {
        tried.push(rate);
        return step(rate, rate <= 12_000);
      },
      2,
    );
    // 12,500 fails, then 11,300 (between 10,000 and 12,500, to 100/s) passes.
    expect(tried).toEqual([5000, 10_000, 15_000, 12_500, 11_300]);
    expect(result).toMatchObject({ highestPassingRate: 11_300, firstFailingRate: 12_500 });
  });
});

describe('judgeRateStep', () => {
  it('passes a clean run below the p99 bar that kept the rate', () => {
    const fleet = fleetResult(10); // 20 accepted in 2 s, p99 from send 4 ms
    const judged = judgeRateStep(fleet);
    expect(judged).toMatchObject({ rate: 10, passed: true, reasons: [], p99Ms: 4 });
    expect(judged.achievedRate).toBe(10);
  });

  it('keeps the latency of each second and names the worst second p99', () => {
    const fleet = fleetResult(10);
    fleet.perSecond = [
      { t: 0, published: 10, delivered: 20, p50: 4, p99: 9 },
      { t: 1, published: 10, delivered: 20, p50: 5, p99: 85 },
      { t: 2, published: 0, delivered: 0, p50: Number.NaN, p99: Number.NaN },
    ];
    const judged = judgeRateStep(fleet);
    expect(judged.perSecond).toBe(fleet.perSecond);
    expect(judged.worstSecondP99Ms).toBe(85);
    fleet.perSecond = [];
    expect(judgeRateStep(fleet).worstSecondP99Ms).toBeNaN();
  });

  it('fails on p99 at or above the bar, naming it', () => {
    const fleet = fleetResult(10);
    fleet.latencyFromSendMs = { ...fleet.latencyFromSendMs, p99: 100 };
    const judged = judgeRateStep(fleet, { maxP99Ms: 100, minAchievedShare: 0.95 });
    expect(judged.passed).toBe(false);
    expect(judged.reasons).toEqual(['p99 100.0 ms is not below 100 ms']);
  });

  it('fails without latency samples', () => {
    const fleet = fleetResult(10);
    fleet.latencyFromSendMs = { ...fleet.latencyFromSendMs, p99: Number.NaN };
    expect(judgeRateStep(fleet).reasons).toEqual(['no latency samples']);
  });

  it('fails when the publisher fell behind the rate (the flush time counts)', () => {
    const fleet = fleetResult(10);
    fleet.publisher = { ...fleet.publisher, elapsedSec: 2.2 }; // 20 events in 2.2 s: 9.1/s < 9.5/s
    const judged = judgeRateStep(fleet);
    expect(judged.passed).toBe(false);
    expect(judged.reasons).toEqual(['published 9/s, below 95 % of 10/s']);
    fleet.publisher = { ...fleet.publisher, elapsedSec: 2.1 }; // 9.52/s: still within 95 %
    expect(judgeRateStep(fleet).passed).toBe(true);
  });

  it('carries every delivery failure of the fleet (loss, duplicates) into the verdict', () => {
    const fleet = fleetResult(10);
    fleet.delivery = { ...fleet.delivery, lost: 3, duplicates: 1 };
    fleet.failures = ['3 deliveries lost', '1 duplicate deliveries on one connection'];
    fleet.passed = false;
    const judged = judgeRateStep(fleet);
    expect(judged).toMatchObject({ passed: false, lost: 3, duplicates: 1 });
    expect(judged.reasons).toEqual(fleet.failures);
  });
});

describe('searchRatesByKind', () => {
  it('interleaves the kinds, alternating their order, and stops each at its first failure', async () => {
    const tried: string[] = [];
    const limits = { a: 5000, b: 3000 };
    const result = await searchRatesByKind(
      ['a', 'b'] as const,
      [2000, 4000, 6000],
      0,
      async (kind, rate) => {
        tried.push(`${kind}${rate}`);
        return step(rate, rate <= limits[kind]);
      },
    );
    expect(tried).toEqual(['a2000', 'b2000', 'b4000', 'a4000', 'a6000']);
    expect(result.a).toMatchObject({ highestPassingRate: 4000, firstFailingRate: 6000 });
    expect(result.b).toMatchObject({ highestPassingRate: 2000, firstFailingRate: 4000 });
  });

  it('bisects between the highest passing and the first failing rate, from 0 when none passed', async () => {
    const limits = { a: 4700, b: 500 };
    const result = await searchRatesByKind(
      ['a', 'b'] as const,
      [2000, 4000, 6000],
      2,
      async (kind, rate) => step(rate, rate <= limits[kind]),
    );
    expect(result.a.steps.map((s) => s.rate)).toEqual([2000, 4000, 6000, 5000, 4500]);
    expect(result.a).toMatchObject({ highestPassingRate: 4500, firstFailingRate: 5000 });
    expect(result.b.steps.map((s) => s.rate)).toEqual([2000, 1000, 500]);
    expect(result.b).toMatchObject({ highestPassingRate: 500, firstFailingRate: 1000 });
  });
});
