import { readFile } from 'node:fs/promises';
import { parseMachineCpuTicks } from './proc-stats.js';

export interface QuietWaitResult {
  /** True when the machine was quiet for the whole window before the deadline. */
  quiet: boolean;
  waitedSec: number;
  /** Busy share of all CPUs, in percent (100 = every core busy), over the last window. */
  lastBusyPercent: number;
}

/**
 * Waits until the whole machine's CPU use stays below `maxBusyPercent` (of all
 * cores) for `windowSec` in a row, or `timeoutSec` passes. On a shared host
 * (CI, other test runs) this keeps a benchmark from measuring someone else's
 * load; the report still records the machine's CPU during every phase.
 */
export async function waitForQuietMachine(
  maxBusyPercent: number,
  windowSec: number,
  timeoutSec: number,
  log: (line: string) => void,
): Promise<QuietWaitResult> {
  const started = Date.now();
  let quietSince = Date.now();
  let last = parseMachineCpuTicks(await readFile('/proc/stat', 'utf8'));
  let lastBusyPercent = Number.NaN;
  let lastLog = 0;
  while (Date.now() - started < timeoutSec * 1000) {
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const now = parseMachineCpuTicks(await readFile('/proc/stat', 'utf8'));
    lastBusyPercent =
      now.total > last.total ? ((now.busy - last.busy) / (now.total - last.total)) * 100 : 0;
    last = now;
    if (lastBusyPercent > maxBusyPercent) quietSince = Date.now();
    if (Date.now() - quietSince >= windowSec * 1000) {
      return { quiet: true, waitedSec: (Date.now() - started) / 1000, lastBusyPercent };
    }
    if (Date.now() - lastLog > 15_000) {
      lastLog = Date.now();
      log(
        `waiting for a quiet machine: CPU ${lastBusyPercent.toFixed(0)}% busy (want < ${maxBusyPercent}%)`,
      );
    }
  }
  return { quiet: false, waitedSec: (Date.now() - started) / 1000, lastBusyPercent };
}
