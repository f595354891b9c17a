import { describe, expect, it } from 'vitest';
import {
  cpuPercent,
  parseMachineCpuTicks,
  parseProcStatCpuTicks,
  parseStatusRssBytes,
  parseStatusWakeUps,
} from '../src/proc-stats.js';

describe('/proc parsing', () => {
  it('reads utime + stime after a command name with spaces and parentheses', () => {
    // Fields: pid (comm) state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt cmajflt utime stime ...
    const stat =
      '4242 (node (edge) x) S 1 4242 4242 0 -1 4194560 12000 0 3 0 1500 250 0 0 20 0 11 0 9000 1000000 20000';
    expect(parseProcStatCpuTicks(stat)).toBe(1750);
  });

  it('rejects text that is not a stat line', () => {
    expect(() => parseProcStatCpuTicks('garbage')).toThrow();
    expect(() => parseProcStatCpuTicks('1 (x) S 1 2')).toThrow();
  });

  it('reads VmRSS from status in bytes', () => {
    const status = 'Name:\tnode\nVmPeak:\t  900000 kB\nVmRSS:\t   81234 kB\nThreads:\t11\n';
    expect(parseStatusRssBytes(status)).toBe(81234 * 1024);
    expect(() => parseStatusRssBytes('Name:\tkthread\n')).toThrow();
  });

  it('reads voluntary context switches (wake-ups), not the involuntary ones', () => {
    const status =
      'Name:\tnode\nThreads:\t11\nvoluntary_ctxt_switches:\t 5123\nnonvoluntary_ctxt_switches:\t77\n';
    expect(parseStatusWakeUps(status)).toBe(5123);
    expect(() => parseStatusWakeUps('Name:\tnode\nnonvoluntary_ctxt_switches:\t77\n')).toThrow();
  });

  it('turns a tick delta into percent of one core', () => {
    // 50 ticks at 100 Hz = 0.5 s of CPU in 0.5 s of wall time: one full core.
    expect(cpuPercent(1000, 1050, 500, 100)).toBeCloseTo(100, 10);
    expect(cpuPercent(1000, 1100, 500, 100)).toBeCloseTo(200, 10);
    expect(cpuPercent(1000, 1050, 0, 100)).toBe(0);
  });
});

describe('machine CPU from /proc/stat', () => {
  it('counts everything but idle and iowait as busy', () => {
    const text = 'cpu  100 5 50 800 40 3 2 0 0 0\ncpu0 50 2 25 400 20 1 1 0 0 0\nintr 1\n';
    expect(parseMachineCpuTicks(text)).toEqual({ busy: 160, total: 1000 });
    expect(() => parseMachineCpuTicks('intr 1\n')).toThrow();
  });
});
