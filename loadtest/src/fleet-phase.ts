import type { FleetResult } from './fleet-runner.js';

/** A fleet phase, without the bulky per-user detail. */
export interface FleetPhase {
  rate: number;
  durationSec: number;
  clients: number;
  users: number;
  passed: boolean;
  failures: string[];
  accepted: number;
  achievedRate: number;
  /** From the start of the POST to the client's receive: the latency. */
  latencyFromSendMs: FleetResult['latencyFromSendMs'];
  latencyFromIngestMs: FleetResult['latencyFromIngestMs'];
  latencyPercentilesMs: Record<string, number>;
  delivery: FleetResult['delivery'];
  perSecond: FleetResult['perSecond'];
  generatorLoopDelayMs?: FleetResult['generatorLoopDelayMs'];
}

/** The compact record of a fleet run kept in the suite report. */
export function phaseOf(fleet: FleetResult): FleetPhase {
  const elapsed = Math.max(fleet.publisher.elapsedSec, fleet.durationSec);
  return {
    rate: fleet.ratePerSec,
    durationSec: fleet.durationSec,
    clients: fleet.clients,
    users: fleet.users,
    passed: fleet.passed,
    failures: fleet.failures,
    accepted: fleet.publisher.accepted,
    achievedRate: elapsed > 0 ? fleet.publisher.accepted / elapsed : 0,
    latencyFromSendMs: fleet.latencyFromSendMs,
    latencyFromIngestMs: fleet.latencyFromIngestMs,
    latencyPercentilesMs: fleet.latencyPercentilesMs,
    delivery: fleet.delivery,
    perSecond: fleet.perSecond,
    ...(fleet.generatorLoopDelayMs ? { generatorLoopDelayMs: fleet.generatorLoopDelayMs } : {}),
  };
}
