// Resource usage of another process, read from /proc (Linux only).
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';

let clkTck: number | undefined;

/** Clock ticks per second for /proc/<pid>/stat times (`getconf CLK_TCK`, else 100). */
export function clockTicksPerSecond(): number {
  if (clkTck === undefined) {
    clkTck = 100;
    try {
      const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim());
      if (Number.isInteger(v) && v > 0) clkTck = v;
    } catch {
      // keep 100
    }
  }
  return clkTck;
}

/** utime + stime of the whole process (all threads), in clock ticks; undefined if unreadable. */
export function readCpuTicks(pid: number): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name (field 2) may contain spaces and parentheses: split after the last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime is field 14, stime field 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) return undefined;
  return utime + stime;
}

/** utime + stime in microseconds (resolution: one clock tick, typically 10 ms). */
export function readCpuMicros(pid: number): number | undefined {
  const ticks = readCpuTicks(pid);
  return ticks === undefined ? undefined : (ticks * 1e6) / clockTicksPerSecond();
}

function readStatusKb(pid: number, key: string): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return undefined;
  }
  const m = new RegExp(`^${key}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

/** Peak resident set size (VmHWM) in KiB. */
export function readPeakRssKb(pid: number): number | undefined {
  return readStatusKb(pid, 'VmHWM');
}

/** Current resident set size (VmRSS) in KiB. */
export function readRssKb(pid: number): number | undefined {
  return readStatusKb(pid, 'VmRSS');
}
