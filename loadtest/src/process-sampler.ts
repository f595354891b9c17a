import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import {
  cpuPercent,
  parseMachineCpuTicks,
  parseProcStatCpuTicks,
  parseStatusRssBytes,
  parseStatusWakeUps,
} from './proc-stats.js';

/** One sample of one process. `t` is seconds since the sampler started. */
export interface ProcessSample {
  t: number;
  cpuPercent: number;
  rssBytes: number;
}

export interface SampledProcess {
  name: string;
  pid: number;
  samples: ProcessSample[];
}

// 20 minutes at the default interval: a run is capped well below that,
// and the cap keeps a forgotten sampler from growing without bound.
const MAX_SAMPLES = 2400;

/** Clock ticks per second (USER_HZ); 100 on every mainstream Linux build, asked once. */
export function ticksPerSecond(): number {
  try {
    const value = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(value) && value > 0 ? value : 100;
  } catch {
    return 100;
  }
}

/** Name of the pseudo-process that stands for the whole machine (every process, ours or not). */
export const MACHINE = 'machine (all processes)';

/**
 * Samples CPU% and RSS of a set of processes every `intervalMs` from /proc,
 * plus the whole machine's CPU (so load from anything else running on the host
 * shows up next to the numbers instead of silently lowering them). A process
 * that exits simply stops getting samples.
 */
export class ProcessSampler {
  private readonly processes: SampledProcess[] = [];
  private readonly machine: SampledProcess = { name: MACHINE, pid: 0, samples: [] };
  private lastMachine: { busy: number; total: number } | undefined;
  private readonly lastTicks = new Map<number, { ticks: number; at: number }>();
  private readonly hz = ticksPerSecond();
  private readonly startedAt = performance.now();
  private timer: NodeJS.Timeout | undefined;
  private sampling = false;

  constructor(private readonly intervalMs = 500) {}

  /** Adds a process; its first CPU% comes one interval later. */
  add(name: string, pid: number): void {
    this.processes.push({ name, pid, samples: [] });
  }

  start(): void {
    if (this.timer) return;
    void this.sample();
    this.timer = setInterval(() => void this.sample(), this.intervalMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Every process with the samples taken so far, then the machine. */
  sampled(): SampledProcess[] {
    return [...this.processes, this.machine];
  }

  /** Seconds since the sampler was created, the time axis of every sample. */
  elapsedSec(): number {
    return (performance.now() - this.startedAt) / 1000;
  }

  private async sample(): Promise<void> {
    // A slow /proc read must not stack up overlapping samples.
    if (this.sampling) return;
    this.sampling = true;
    try {
      await Promise.all([
        ...this.processes.map((proc) => this.sampleOne(proc)),
        this.sampleMachine(),
      ]);
    } finally {
      this.sampling = false;
    }
  }

  private async sampleOne(proc: SampledProcess): Promise<void> {
    let stat: string;
    let status: string;
    try {
      [stat, status] = await Promise.all([
        readFile(`/proc/${proc.pid}/stat`, 'utf8'),
        readFile(`/proc/${proc.pid}/status`, 'utf8'),
      ]);
    } catch {
      return; // exited
    }
    const now = performance.now();
    const ticks = parseProcStatCpuTicks(stat);
    const rssBytes = parseStatusRssBytes(status);
    const last = this.lastTicks.get(proc.pid);
    this.lastTicks.set(proc.pid, { ticks, at: now });
    if (!last || proc.samples.length >= MAX_SAMPLES) return;
    proc.samples.push({
      t: (now - this.startedAt) / 1000,
      cpuPercent: cpuPercent(last.ticks, ticks, now - last.at, this.hz),
      rssBytes,
    });
  }

  private async sampleMachine(): Promise<void> {
    let text: string;
    try {
      text = await readFile('/proc/stat', 'utf8');
    } catch {
      return;
    }
    const now = parseMachineCpuTicks(text);
    const last = this.lastMachine;
    this.lastMachine = now;
    if (!last || now.total <= last.total || this.machine.samples.length >= MAX_SAMPLES) return;
    this.machine.samples.push({
      t: this.elapsedSec(),
      // Percent of one core, like the processes: 200 means both cores of a 2-core host busy.
      cpuPercent:
        ((now.busy - last.busy) / (now.total - last.total)) * 100 * availableParallelism(),
      rssBytes: Number.NaN,
    });
  }
}

/** Resident set size of a process right now, in bytes. */
export async function readRssBytes(pid: number): Promise<number> {
  return parseStatusRssBytes(await readFile(`/proc/${pid}/status`, 'utf8'));
}

/**
 * CPU time (user + system) a process has used so far, in clock ticks; NaN
 * once it has exited. Synchronous, so a measuring window can open and close
 * exactly at a callback.
 */
export function readCpuTicks(pid: number): number {
  try {
    return parseProcStatCpuTicks(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return Number.NaN;
  }
}

/**
 * Wake-ups of a process so far (voluntary context switches of its main
 * thread, where a Node service or Redis does its work); NaN once it is gone.
 * On a VM a wake-up can cost more CPU than the work it wakes for
 * (docs/benchmarks.md, issue 8, session 4).
 */
export function readWakeUps(pid: number): number {
  try {
    return parseStatusWakeUps(readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return Number.NaN;
  }
}
