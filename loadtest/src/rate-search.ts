import type { FleetResult, FleetSecond } from './fleet-runner.js';
import type { LoopDelaySummary } from './loop-delay-probe.js';

/** What a rate step must meet to pass. */
export interface RateCriteria {
  /** p99 from the start of the POST to the client's receive must stay below this. */
  maxP99Ms: number;
  /** Accepted events per second of publishing time, as a share of the target rate. */
  minAchievedShare: number;
}

/** The bar: p99 < 100 ms, and the publisher kept at least 95 % of the target rate. */
export const DEFAULT_RATE_CRITERIA: Readonly<RateCriteria> = Object.freeze({
  maxP99Ms: 100,
  minAchievedShare: 0.95,
});

export interface RateStep {
  rate: number;
  /** Accepted events per second of publishing time (schedule plus flush). */
  achievedRate: number;
  accepted: number;
  p50Ms: number;
  p99Ms: number;
  lost: number;
  duplicates: number;
  passed: boolean;
  /** Why the step failed; empty when it passed. */
  reasons: string[];
  /**
   * Latency per second of the step: whether its p99 comes from a few slow
   * slices or from every second. Absent in reports written before it was kept.
   */
  perSecond?: FleetSecond[];
  /** Highest p99 of any second of the step (NaN without samples). */
  worstSecondP99Ms?: number;
  /** The load generator's own event-loop delay during the step (part of every figure). */
  generatorLoopDelayMs?: LoopDelaySummary;
}

export interface RateSearchResult {
  steps: RateStep[];
  /** Highest rate whose step passed; null when the first step failed already. */
  highestPassingRate: number | null;
  /** The step that stopped the search; null when every rate passed. */
  firstFailingRate: number | null;
}

/**
 * Judges one fleet run as a rate step: every delivery check of the fleet
 * (no loss, no duplicate, nothing refused...), p99 below the bar, and the
 * publisher actually reached the rate (a step the load generator could not
 * drive is not a pass).
 */
export function judgeRateStep(
  fleet: FleetResult,
  criteria: RateCriteria = DEFAULT_RATE_CRITERIA,
): RateStep {
  const p99 = fleet.latencyFromSendMs.p99;
  const elapsed = Math.max(fleet.publisher.elapsedSec, fleet.durationSec);
  const achievedRate = elapsed > 0 ? fleet.publisher.accepted / elapsed : 0;
  const reasons = [...fleet.failures];
  if (!(p99 < criteria.maxP99Ms)) {
    reasons.push(
      Number.isNaN(p99)
        ? 'no latency samples'
        : `p99 ${p99.toFixed(1)} ms is not below ${criteria.maxP99Ms} ms`,
    );
  }
  if (achievedRate < fleet.ratePerSec * criteria.minAchievedShare) {
    reasons.push(
      `published ${Math.round(achievedRate)}/s, below ${Math.round(criteria.minAchievedShare * 100)} % of ${fleet.ratePerSec}/s`,
    );
  }
  return {
    rate: fleet.ratePerSec,
    achievedRate,
    accepted: fleet.publisher.accepted,
    p50Ms: fleet.latencyFromSendMs.p50,
    p99Ms: p99,
    lost: fleet.delivery.lost,
    duplicates: fleet.delivery.duplicates,
    passed: reasons.length === 0,
    reasons,
    perSecond: fleet.perSecond,
    worstSecondP99Ms: worstSecondP99(fleet.perSecond),
    ...(fleet.generatorLoopDelayMs ? { generatorLoopDelayMs: fleet.generatorLoopDelayMs } : {}),
  };
}

function worstSecondP99(seconds: readonly FleetSecond[]): number {
  const p99s = seconds.map((second) => second.p99).filter(Number.isFinite);
  return p99s.length > 0 ? Math.max(...p99s) : Number.NaN;
}

/**
 * Steps through `rates` in ascending order, running one step each, and stops
 * at the first step that fails; then `refineSteps` bisections between the
 * highest passing and the first failing rate (rounded to 100/s) narrow it
 * down. The answer is the highest passing rate.
 */
export async function searchRates(
  rates: readonly number[],
  runStep: (rate: number) => Promise<RateStep>,
  refineSteps = 0,
): Promise<RateSearchResult> {
  const { only } = await searchRatesByKind(['only'], rates, refineSteps, (_, rate) =>
    runStep(rate),
  );
  return only;
}

/**
 * The rate search for several kinds of load on the same system, interleaved:
 * at each rate every kind still passing runs one step (the order alternating
 * from rate to rate), so drift in the machine's other work hits all kinds
 * alike and their highest rates compare within one run. Each kind stops at
 * its first failing rate; then `refineSteps` bisections between its highest
 * passing and first failing rate (rounded to 100/s; from 0 when nothing
 * passed) narrow it down, again interleaved.
 */
export async function searchRatesByKind<K extends string, S extends RateStep>(
  kinds: readonly K[],
  rates: readonly number[],
  refineSteps: number,
  runStep: (kind: K, rate: number) => Promise<S>,
): Promise<Record<K, RateSearchResult & { steps: S[] }>> {
  const results = {} as Record<K, RateSearchResult & { steps: S[] }>;
  for (const kind of kinds)
    results[kind] = { steps: [], highestPassingRate: null, firstFailingRate: null };
  const ordered = [...new Set(rates)].sort((a, b) => a - b);
  const record = (kind: K, step: S): void => {
    const result = results[kind];
    result.steps.push(step);
    if (step.passed) {
      if (result.highestPassingRate === null || step.rate > result.highestPassingRate)
        result.highestPassingRate = step.rate;
    } else if (result.firstFailingRate === null || step.rate < result.firstFailingRate) {
      result.firstFailingRate = step.rate;
    }
  };
  let round = 0;
  const inTurn = (): K[] => (round++ % 2 === 0 ? [...kinds] : [...kinds].reverse());
  for (const rate of ordered) {
    const searching = inTurn().filter((kind) => results[kind].firstFailingRate === null);
    if (searching.length === 0) break;
    for (const kind of searching) record(kind, await runStep(kind, rate));
  }
  for (let r = 0; r < refineSteps; r++) {
    for (const kind of inTurn()) {
      const { highestPassingRate, firstFailingRate } = results[kind];
      if (firstFailingRate === null) continue;
      const low = highestPassingRate ?? 0;
      const mid = Math.round((low + firstFailingRate) / 200) * 100;
      if (mid <= low || mid >= firstFailingRate) continue;
      record(kind, await runStep(kind, mid));
    }
  }
  return results;
}
