// Small formatting helpers shared by the benchmark reports.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { canPin } from './children.js';
import { clockTicksPerSecond } from './proc-stats.js';
import { ROOT_DIR } from './servers.js';
import { formatTable } from '../harness/load/table.js';

export function fmt(v: number | null | undefined, digits: number): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : v.toFixed(digits);
}

export function fmtInt(v: number | null | undefined): string {
  return v === null || v === undefined || !Number.isFinite(v) ? '-' : Math.round(v).toLocaleString('en-US');
}

/** Prints rows under a header (the harness's table formatter); the first and the last column left-aligned. */
export function printTable(header: string[], rows: string[][]): void {
  console.log(formatTable(header, rows, [0, header.length - 1]));
}

export function passMiss(ok: boolean): string {
  return ok ? 'PASS' : 'MISS';
}

export function machineInfo(): { cpus: number; model: string; node: string; pinned: boolean; clockTicksPerSecond: number } {
  return {
    cpus: os.availableParallelism(),
    model: os.cpus()[0]?.model ?? 'unknown',
    node: process.version,
    pinned: canPin(),
    clockTicksPerSecond: clockTicksPerSecond(),
  };
}

/** Writes .bench-results/<name>.json (or `out`) and says so. */
export function writeResults(name: string, report: unknown, out?: string): string {
  const file = out ?? path.join(ROOT_DIR, '.bench-results', `${name}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`results written to ${path.relative(process.cwd(), file) || file}`);
  return file;
}

export function round(v: number | null | undefined, digits: number): number | null {
  if (v === null || v === undefined || !Number.isFinite(v)) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}
