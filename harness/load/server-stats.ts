/**
 * CPU and memory of the server under load: of this process (an embedded server
 * on the main thread, which then shares both with the load clients) via
 * `process.cpuUsage` and `memoryUsage`, of one thread (an embedded server in a
 * worker) or of another process by pid via /proc (Linux).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface ServerStats {
  /** CPU seconds (user + system) used during the measured window. */
  cpuS: number;
  /** Peak resident set size, MB (in-process: the highest sample; by pid: VmHWM). */
  rssPeakMB: number;
  /** in-process: the whole process; worker-thread: the server's thread (RSS: the process); pid: another process. */
  source: 'in-process' | 'worker-thread' | 'pid';
  /** True when `cpuS` includes the load clients (embedded on the main thread). */
  cpuIncludesHarness: boolean;
  /** True when `rssPeakMB` includes the load clients (any embedded server). */
  rssIncludesHarness: boolean;
  pid: number;
}

/** Measures one server: `begin` at the start of the measured window, `sample` now and then, `end` at its end. */
export interface ServerSampler {
  begin(): void;
  sample(): void;
  end(): ServerStats | undefined;
}

const MB = 1024 * 1024;

/** This process. */
export function processSampler(): ServerSampler {
  let cpu0: NodeJS.CpuUsage | undefined;
  let cpuS = 0;
  let peak = process.memoryUsage.rss();
  return {
    begin() {
      cpu0 = process.cpuUsage();
    },
    sample() {
      peak = Math.max(peak, process.memoryUsage.rss());
    },
    end() {
      this.sample();
      if (cpu0 !== undefined) {
        const d = process.cpuUsage(cpu0);
        cpuS = (d.user + d.system) / 1e6;
        cpu0 = undefined;
      }
      return { cpuS: round(cpuS), rssPeakMB: round(peak / MB), source: 'in-process', cpuIncludesHarness: true, rssIncludesHarness: true, pid: process.pid };
    },
  };
}

/** Another process, from /proc/<pid>/stat and /proc/<pid>/status; undefined results when unreadable. */
export function pidSampler(pid: number): ServerSampler {
  let ticks0: number | undefined;
  let ticks: number | undefined;
  return {
    begin() {
      ticks0 = readCpuTicks(`/proc/${pid}/stat`);
    },
    sample() {},
    end() {
      ticks ??= readCpuTicks(`/proc/${pid}/stat`);
      const hwmKb = readStatusKb(pid, 'VmHWM');
      if (ticks0 === undefined || ticks === undefined || hwmKb === undefined) return undefined;
      return {
        cpuS: round((ticks - ticks0) / clockTicks()),
        rssPeakMB: round(hwmKb / 1024),
        source: 'pid',
        cpuIncludesHarness: pid === process.pid,
        rssIncludesHarness: pid === process.pid,
        pid,
      };
    },
  };
}

/** utime + stime in clock ticks (fields 14 and 15) of a /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat file. */
export function readCpuTicks(statFile: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(statFile, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may contain spaces and parentheses: fields start after the last ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const v = Number(f[11]) + Number(f[12]);
  return Number.isFinite(v) ? v : undefined;
}

export function readStatusKb(pid: number, key: string): number | undefined {
  try {
    const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

let clkTck: number | undefined;
/** Clock ticks per second of /proc times (`getconf CLK_TCK`, else 100). */
export function clockTicks(): number {
  if (clkTck === undefined) {
    clkTck = 100;
    try {
      const v = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim());
      if (Number.isInteger(v) && v > 0) clkTck = v;
    } catch {
      // 100 is the Linux default
    }
  }
  return clkTck;
}

function round(v: number): number {
  return Math.round(v * 100) / 100;
}
