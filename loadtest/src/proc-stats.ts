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
