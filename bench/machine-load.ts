// Whole-machine CPU accounting from /proc/stat (Linux only): how busy each CPU was over a
// window, softirq included (loopback traffic is processed there and is not charged to any
// process), and how much CPU went to processes other than the benchmark's own, so a run on
// a shared machine can say that it was disturbed.
import * as fs from 'node:fs';
import { readCpuTicks } from './proc-stats.js';

export interface CpuTimes {
  /** Per CPU: user+nice+system (process time), irq+softirq, and total (idle included), in ticks. */
  cpus: { proc: number; irq: number; total: number }[];
  /** utime+stime of the watched processes, in ticks. */
  watched: number;
}

export function readCpuTimes(watchPids: readonly number[] = []): CpuTimes | undefined {
  let text: string;
  try {
    text = fs.readFileSync('/proc/stat', 'utf8');
  } catch {
    return undefined;
  }
  const cpus: CpuTimes['cpus'] = [];
  for (const line of text.split('\n')) {
    const m = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const f = m[2]!.split(/\s+/).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
    cpus[Number(m[1])] = { proc: user + nice + system, irq: irq + softirq, total: user + nice + system + idle + iowait + irq + softirq + steal };
  }
  let watched = 0;
  for (const pid of watchPids) watched += readCpuTicks(pid) ?? 0;
  return { cpus, watched };
}

export interface CpuWindow {
  /** Per CPU: busy fraction (process + irq/softirq time) over the window. */
  busy: number[];
  /** Cores' worth of process CPU used by processes other than the watched ones. */
  otherCores: number;
}

export function cpuWindow(a: CpuTimes | undefined, b: CpuTimes | undefined): CpuWindow | undefined {
  if (a === undefined || b === undefined) return undefined;
  const busy: number[] = [];
  let procTicks = 0;
  let wall = 0;
  for (let i = 0; i < b.cpus.length; i++) {
    const x = a.cpus[i];
    const y = b.cpus[i];
    if (!x || !y) continue;
    const total = y.total - x.total;
    busy[i] = total > 0 ? (y.proc - x.proc + y.irq - x.irq) / total : 0;
    procTicks += y.proc - x.proc;
    wall = Math.max(wall, total);
  }
  const other = procTicks - (b.watched - a.watched);
  return { busy, otherCores: wall > 0 ? Math.max(0, other) / wall : 0 };
}

/**
 * Waits (up to maxWaitS) until processes other than this one used less than
 * `thresholdCores` of CPU over a 1 s window; returns the last window's figure. Benchmarks
 * call it before a measurement so that another job on a shared machine (a build, tests)
 * does not end up in the numbers; when the machine stays busy they run anyway and say so.
 */
export async function waitForQuietMachine(maxWaitS: number, thresholdCores = 0.25): Promise<{ waitedS: number; otherCores: number | null }> {
  const t0 = Date.now();
  let other: number | null = null;
  for (;;) {
    const a = readCpuTimes([process.pid]);
    await new Promise((r) => setTimeout(r, 1000));
    const w = cpuWindow(a, readCpuTimes([process.pid]));
    if (w === undefined) return { waitedS: 0, otherCores: null };
    other = w.otherCores;
    const waitedS = (Date.now() - t0) / 1000;
    if (other < thresholdCores || waitedS >= maxWaitS) return { waitedS, otherCores: other };
  }
}
