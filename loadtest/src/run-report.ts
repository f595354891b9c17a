import type { FleetResult } from './fleet-runner.js';
import type { IngestBenchResult } from './ingest-benchmark.js';
import type { MachineInfo } from './machine-info.js';
import type { PolledTarget } from './metrics-poller.js';
import type { PhaseWindow, ProcessPhaseStats } from './phase-stats.js';
import type { SampledProcess } from './process-sampler.js';

export type PhaseResult = IngestBenchResult | FleetResult;

/** A phase of a scenario run: its window on the run's clock and what it measured. */
export interface ReportPhase extends PhaseWindow {
  result: PhaseResult;
}

/**
 * How the buffer kept up with one ingest phase: the ingest edge answers 202
 * once events are in the ingest streams; the buffer sequences, persists and
 * forwards them asynchronously, possibly finishing after the phase ended.
 */
export interface BufferCatchUp {
  /** The ingest phase. */
  name: string;
  phaseStartSec: number;
  phaseEndSec: number;
  /** When the buffer had processed every event of the phase (or gave up waiting). */
  caughtUpSec: number;
  /** Events the buffer processed from the phase start until caughtUpSec. */
  processed: number;
  /** Events accepted by ingest but not yet processed when the phase ended. */
  backlogAtPhaseEnd: number;
  /** False when the wait timed out before the backlog was gone. */
  drained: boolean;
}

/** Everything report.json holds; report.md and the SVGs are rendered from it. */
export interface RunReport {
  kind: 'agentwire-loadtest';
  version: 1;
  createdAt: string;
  /** Epoch ms of t = 0 on every time axis of the report. */
  originEpochMs: number;
  mode: 'local' | 'target';
  command: string;
  machine: MachineInfo;
  /** Local mode: what was started. Target mode: what was loaded. */
  system:
    | { edges: number; buffers: number; redisPersistence: string; env: Record<string, string> }
    | { targets: string[] };
  phases: ReportPhase[];
  bufferCatchUp: BufferCatchUp[];
  processes: SampledProcess[];
  processStats: ProcessPhaseStats[];
  metrics: PolledTarget[];
  passed: boolean;
  failures: string[];
}

export function isFleet(result: PhaseResult): result is FleetResult {
  return result.kind === 'fleet';
}

export function isIngest(result: PhaseResult): result is IngestBenchResult {
  return result.kind === 'ingest';
}
