import { readFileSync } from 'node:fs';
import { availableParallelism, cpus, totalmem } from 'node:os';

export interface MachineInfo {
  nproc: number;
  cpuModel: string;
  memoryGiB: number;
  node: string;
  redis: string;
  kernel: string;
}

/** The facts a benchmark number is meaningless without. `redisVersion` comes from INFO server. */
export function machineInfo(redisVersion: string): MachineInfo {
  let kernel = 'unknown';
  try {
    kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim();
  } catch {
    // Not Linux: leave it unknown.
  }
  return {
    nproc: availableParallelism(),
    cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    redis: redisVersion,
    kernel,
  };
}

/** A field (`redis_version`, `process_id`) from the text of Redis INFO. */
export function infoField(infoText: string, field: string): string | undefined {
  const match = new RegExp(`^${field}:(.*)$`, 'm').exec(infoText);
  return match?.[1]?.trim();
}
