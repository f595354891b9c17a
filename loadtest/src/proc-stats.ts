/** CPU time and memory of one process, read from Linux /proc. */
export interface ProcSnapshot {
  /** utime + stime in clock ticks. */
  cpuTicks: number;
  /** Resident set size in bytes. */
  rssBytes: number;
}

/**
 * utime + stime (clock ticks) from the text of /proc/<pid>/stat. The command
 * name (field 2) is in parentheses and may itself contain spaces and
 * parentheses, so fields are counted from the last ')'.
 */
export function parseProcStatCpuTicks(statText: string): number {
  const close = statText.lastIndexOf(')');
  if (close < 0) throw new Error('unrecognised /proc/<pid>/stat: no ")"');
  // After ") " come fields 3 (state), 4, ...; utime is field 14, stime field 15.
  const fields = statText
    .slice(close + 2)
    .trim()
    .split(/\s+/);
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error('unrecognised /proc/<pid>/stat: utime/stime are not numbers');
  }
  return utime + stime;
}

/** VmRSS in bytes from the text of /proc/<pid>/status (the kernel reports kB). */
export function parseStatusRssBytes(statusText: string): number {
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(statusText);
  if (!match) throw new Error('no VmRSS line in /proc/<pid>/status');
  return Number(match[1]) * 1024;
}

/**
 * Voluntary context switches from the text of /proc/<pid>/status (the main
 * thread's, where a Node service or Redis does its work): each one is a
 * sleep followed by a wake-up.
 */
export function parseStatusWakeUps(statusText: string): number {
  const match = /^voluntary_ctxt_switches:\s+(\d+)/m.exec(statusText);
  if (!match) throw new Error('no voluntary_ctxt_switches line in /proc/<pid>/status');
  return Number(match[1]);
}

/** CPU use between two snapshots, in percent of one core (200% = two cores busy). */
export function cpuPercent(
  before: number,
  after: number,
  elapsedMs: number,
  ticksPerSecond: number,
): number {
  if (elapsedMs <= 0) return 0;
  return (((after - before) / ticksPerSecond) * 1000 * 100) / elapsedMs;
}

/** Busy and total jiffies of all CPUs together, from the first line of /proc/stat. */
export function parseMachineCpuTicks(procStatText: string): { busy: number; total: number } {
  const line = procStatText.split('\n').find((l) => l.startsWith('cpu '));
  if (!line) throw new Error('no "cpu" line in /proc/stat');
  const fields = line.trim().split(/\s+/).slice(1, 9).map(Number);
  if (fields.length < 5 || fields.some((f) => !Number.isFinite(f)))
    throw new Error('unrecognised /proc/stat cpu line');
  // user nice system idle iowait irq softirq steal: idle and iowait are not busy.
  const total = fields.reduce((sum, f) => sum + f, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { busy: total - idle, total };
}
