// Resource usage of another process, read from /proc (Linux only), by harness/server-stats.ts.
import { clockTicks, readCpuTicks as readStatTicks, readStatusKb } from '../harness/load/server-stats.js';

/** Clock ticks per second for /proc/<pid>/stat times (`getconf CLK_TCK`, else 100). */
export const clockTicksPerSecond = clockTicks;

/** utime + stime of the whole process (all threads), in clock ticks; undefined if unreadable. */
export function readCpuTicks(pid: number): number | undefined {
  return readStatTicks(`/proc/${pid}/stat`);
}

/** utime + stime in microseconds (resolution: one clock tick, typically 10 ms). */
export function readCpuMicros(pid: number): number | undefined {
  const ticks = readCpuTicks(pid);
  return ticks === undefined ? undefined : (ticks * 1e6) / clockTicksPerSecond();
}

/** Peak resident set size (VmHWM) in KiB. */
export function readPeakRssKb(pid: number): number | undefined {
  return readStatusKb(pid, 'VmHWM');
}

/** Current resident set size (VmRSS) in KiB. */
export function readRssKb(pid: number): number | undefined {
  return readStatusKb(pid, 'VmRSS');
}
