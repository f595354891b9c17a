/** CPU ticks one process used during a measured window. */
export interface ProcessCpu {
  /** Sampled name: redis, redis-0, buffer-0, edge-1, floor... */
  name: string;
  ticks: number;
  /** Voluntary context switches (wake-ups) in the window; NaN when unknown. */
  wakeUps?: number;
}

export interface RoleCpu {
  role: string;
  processes: string[];
  cpuSeconds: number;
  /** CPU microseconds per event; NaN without events. */
  usPerEvent: number;
  /** Wake-ups of the role's processes per event; NaN without events or counts. */
  wakeUpsPerEvent: number;
}

export interface CpuPerEvent {
  events: number;
  windowSec: number;
  roles: RoleCpu[];
  total: { cpuSeconds: number; usPerEvent: number; wakeUpsPerEvent: number };
}

/** The role of a sampled process: `edge-1` -> `edge`, `redis-0` -> `redis`, `floor` -> `floor`. */
export function roleOf(processName: string): string {
  return processName.replace(/-\d+$/, '');
}

/**
 * CPU per event by role (processes of the same role summed) and in total:
 * ticks / hz seconds of CPU, divided by the events of the window. Processes
 * whose ticks are not finite (exited mid-window) are left out of both.
 */
export function cpuPerEvent(
  processes: readonly ProcessCpu[],
  hz: number,
  events: number,
  windowSec: number,
): CpuPerEvent {
  const byRole = new Map<
    string,
    { role: string; processes: string[]; cpuSeconds: number; wakeUps: number }
  >();
  let totalSeconds = 0;
  let totalWakeUps = 0;
  for (const proc of processes) {
    if (!Number.isFinite(proc.ticks)) continue;
    const role = roleOf(proc.name);
    const seconds = proc.ticks / hz;
    const wakeUps = proc.wakeUps ?? Number.NaN;
    totalSeconds += seconds;
    totalWakeUps += wakeUps;
    const entry = byRole.get(role) ?? { role, processes: [], cpuSeconds: 0, wakeUps: 0 };
    entry.processes.push(proc.name);
    entry.cpuSeconds += seconds;
    entry.wakeUps += wakeUps;
    byRole.set(role, entry);
  }
  const perEvent = (value: number): number => (events > 0 ? value / events : NaN);
  const roles = [...byRole.values()].map(({ wakeUps, ...entry }) => ({
    ...entry,
    usPerEvent: perEvent(entry.cpuSeconds * 1e6),
    wakeUpsPerEvent: perEvent(wakeUps),
  }));
  return {
    events,
    windowSec,
    roles,
    total: {
      cpuSeconds: totalSeconds,
      usPerEvent: perEvent(totalSeconds * 1e6),
      wakeUpsPerEvent: perEvent(totalWakeUps),
    },
  };
}

/** `value / reference`; NaN when either is missing or the reference is not positive. */
export function ratio(
  value: number | null | undefined,
  reference: number | null | undefined,
): number {
  if (value === null || value === undefined || reference === null || reference === undefined)
    return Number.NaN;
  if (!Number.isFinite(value) || !Number.isFinite(reference) || reference <= 0) return Number.NaN;
  return value / reference;
}
