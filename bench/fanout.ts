// The chat fan-out workload: every server kind against the same load generator.
// Server pinned to CPU 0, load generator to CPU 1 (when taskset exists); server CPU
// time is the delta of utime+stime over the load phase only (from the load
// generator's READY, i.e. everyone joined, to its result line), peak RSS at the end.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type ParsedArgs, numFlag, strFlag } from './args.js';
import { BenchChild, canPin } from './children.js';
import { readCpuMicros, readPeakRssKb, clockTicksPerSecond } from './proc-stats.js';
import { chatServers, DIST_DIR, ROOT_DIR, type ServerKind } from './servers.js';
import { fmt, fmtInt, printTable } from './table.js';

export interface FanoutOptions {
  /** Only this server kind (`bare`, `parley` or `socket.io`). */
  only?: string;
  /** The kinds to run when `only` is not given; default bare and parley (`--kinds a,b`). */
  kinds?: string[];
  clients: number;
  senders: number;
  messages: number;
  payload: number;
  /** Target deliveries/s in aggregate; 0 = open loop. */
  rate: number;
  runs: number;
  /** Load phase timeout of the load generator, seconds. */
  timeoutS: number;
  window: number;
  batch: number;
  sampleEvery: number;
  /** Unmeasured warm-up messages per sender before the load phase. */
  warmup: number;
  /** Where the JSON results go; undefined = .bench-results/fanout.json, '' = nowhere. */
  out?: string;
}

export const fanoutDefaults: FanoutOptions = {
  clients: 200,
  senders: 20,
  messages: 500,
  payload: 100,
  rate: 0,
  runs: 1,
  timeoutS: 60,
  window: 50,
  batch: 50,
  sampleEvery: 10,
  warmup: 100,
};

export function fanoutOptionsFromArgs(args: ParsedArgs): FanoutOptions {
  const d = fanoutDefaults;
  const only = strFlag(args, 'only');
  if (only !== undefined && !chatServers.some((k) => k.name === only)) {
    throw new Error(`--only: expected one of ${chatServers.map((k) => k.name).join(', ')}`);
  }
  const kindsRaw = strFlag(args, 'kinds');
  const kinds = kindsRaw?.split(',').map((k) => k.trim());
  for (const k of kinds ?? []) {
    if (!chatServers.some((c) => c.name === k)) throw new Error(`--kinds: expected some of ${chatServers.map((c) => c.name).join(', ')}`);
  }
  return {
    only,
    ...(kinds !== undefined ? { kinds } : {}),
    clients: numFlag(args, 'clients', d.clients, { min: 2 }),
    senders: numFlag(args, 'senders', d.senders, { min: 1 }),
    messages: numFlag(args, 'messages', d.messages, { min: 1 }),
    payload: numFlag(args, 'payload', d.payload, { min: 1 }),
    rate: numFlag(args, 'rate', d.rate, { int: false }),
    runs: numFlag(args, 'runs', d.runs, { min: 1 }),
    timeoutS: numFlag(args, 'timeout', d.timeoutS, { min: 1, int: false }),
    window: numFlag(args, 'window', d.window, { min: 1 }),
    batch: numFlag(args, 'batch', d.batch, { min: 1 }),
    sampleEvery: numFlag(args, 'sample-every', d.sampleEvery, { min: 1 }),
    warmup: numFlag(args, 'warmup', d.warmup),
    out: strFlag(args, 'out'),
  };
}

export interface FanoutRun {
  kind: string;
  ok: boolean;
  error?: string;
  deliveries: number;
  expected: number;
  complete: boolean;
  elapsedS: number;
  deliveriesPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  /** Server utime+stime over the load phase. */
  serverCpuS: number;
  serverCpuUsPerDelivery: number | null;
  /** Server CPU time / wall time of the load phase (1 = one core busy). */
  serverCpuUtil: number | null;
  peakRssMb: number | null;
  loadCpuS: number | null;
  loadCpuUtil: number | null;
  loadResult?: unknown;
}

export interface FanoutKindResult {
  kind: string;
  skipped?: string;
  /** The median run by deliveries/s (of the successful runs). */
  median?: FanoutRun;
  runs: FanoutRun[];
}

export interface FanoutReport {
  workload: 'fanout';
  date: string;
  machine: { cpus: number; model: string; node: string; pinned: boolean; clockTicksPerSecond: number };
  options: FanoutOptions;
  kinds: FanoutKindResult[];
  ratios?: {
    deliveriesPerSec: number;
    deliveriesPerSecTarget: number;
    deliveriesPerSecPass: boolean;
    cpuPerDelivery: number;
    cpuPerDeliveryTarget: number;
    cpuPerDeliveryPass: boolean;
  };
}

/** socket.io is slow (~125k deliveries/s): only with --kinds / --only, or in `run.js all`. */
const DEFAULT_KINDS = ['bare', 'parley'];

const TARGET_RATE_RATIO = 0.6; // parley deliveries/s >= 0.6 x bare
const TARGET_CPU_RATIO = 1.5; // parley CPU per delivery <= 1.5 x bare

function failedRun(kind: string, error: string): FanoutRun {
  return {
    kind,
    ok: false,
    error,
    deliveries: 0,
    expected: 0,
    complete: false,
    elapsedS: 0,
    deliveriesPerSec: 0,
    p50Ms: null,
    p99Ms: null,
    maxMs: null,
    serverCpuS: 0,
    serverCpuUsPerDelivery: null,
    serverCpuUtil: null,
    peakRssMb: null,
    loadCpuS: null,
    loadCpuUtil: null,
  };
}

interface LoadResultLine {
  deliveries: number;
  expected: number;
  elapsedS: number;
  deliveriesPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  loadCpuS: number | null;
  complete: boolean;
  error?: string;
}

/** The workload flags of fanout-load.js (and socketio-load.js), shared with the cluster benchmark. */
export function fanoutLoadFlags(
  o: Pick<FanoutOptions, 'clients' | 'senders' | 'messages' | 'payload' | 'rate' | 'timeoutS' | 'window' | 'batch' | 'sampleEvery' | 'warmup'>,
  connectTimeoutS: number,
): string[] {
  return [
    '--clients',
    String(o.clients),
    '--senders',
    String(o.senders),
    '--messages',
    String(o.messages),
    '--payload',
    String(o.payload),
    '--rate',
    String(o.rate),
    '--timeout',
    String(o.timeoutS),
    '--connect-timeout',
    String(connectTimeoutS),
    '--window',
    String(o.window),
    '--batch',
    String(o.batch),
    '--sample-every',
    String(o.sampleEvery),
    '--warmup',
    String(o.warmup),
    '--control-stdin',
  ];
}

async function runOnce(kind: ServerKind, o: FanoutOptions): Promise<FanoutRun> {
  const server = await kind.start({ cpu: 0 });
  let load: BenchChild | undefined;
  try {
    const connectTimeoutS = 30 + o.clients / 100;
    load = new BenchChild(
      'fanout-load',
      process.execPath,
      [
        path.join(DIST_DIR, 'bench', kind.loadScript ?? 'fanout-load.js'),
        ...(kind.loadArgs ?? []),
        '--port',
        String(server.port),
        ...fanoutLoadFlags(o, connectTimeoutS),
      ],
      { cpu: 1, cwd: ROOT_DIR },
    );

    // Listen for the result line from the start: on a failure it comes before READY.
    const resultP = load.waitForLine((l) => l.startsWith('{'), (connectTimeoutS + 2 * o.timeoutS + 30) * 1000, 'the result line');
    resultP.catch(() => undefined);
    const readyP = load.waitForLine((l) => l === 'READY', (connectTimeoutS + 10 + (o.warmup > 0 ? o.timeoutS : 0)) * 1000, 'READY');
    readyP.catch(() => undefined);
    const first = await Promise.race([readyP.then(() => null), resultP]);
    if (first !== null) {
      const r = JSON.parse(first.line) as LoadResultLine;
      throw new Error(`load generator failed before READY: ${r.error ?? first.line}`);
    }

    const cpu0 = readCpuMicros(server.child.pid);
    const load0 = readCpuMicros(load.pid);
    const t0 = performance.now();
    load.send('GO\n');
    const { line } = await resultP;
    const cpu1 = readCpuMicros(server.child.pid);
    const wallS = (performance.now() - t0) / 1000;
    const load1 = readCpuMicros(load.pid);
    const rssKb = readPeakRssKb(server.child.pid);
    load.send('END\n');
    await load.waitOrKill(5000);

    const r = JSON.parse(line) as LoadResultLine;
    if (cpu0 === undefined || cpu1 === undefined) throw new Error(`cannot read /proc/${server.child.pid}/stat`);
    const serverCpuUs = cpu1 - cpu0;
    const loadCpuS = r.loadCpuS ?? (load0 !== undefined && load1 !== undefined ? (load1 - load0) / 1e6 : null);
    return {
      kind: kind.name,
      ok: r.complete && r.error === undefined,
      ...(r.error !== undefined ? { error: r.error } : !r.complete ? { error: 'incomplete' } : {}),
      deliveries: r.deliveries,
      expected: r.expected,
      complete: r.complete,
      elapsedS: r.elapsedS,
      deliveriesPerSec: r.deliveriesPerSec,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      maxMs: r.maxMs,
      serverCpuS: serverCpuUs / 1e6,
      serverCpuUsPerDelivery: r.deliveries > 0 ? serverCpuUs / r.deliveries : null,
      serverCpuUtil: wallS > 0 ? serverCpuUs / 1e6 / wallS : null,
      peakRssMb: rssKb !== undefined ? rssKb / 1024 : null,
      loadCpuS,
      loadCpuUtil: loadCpuS !== null && r.elapsedS > 0 ? loadCpuS / r.elapsedS : null,
      loadResult: r,
    };
  } finally {
    if (load) await load.kill();
    await server.child.kill();
  }
}

function medianRun(runs: FanoutRun[]): FanoutRun | undefined {
  const ok = runs.filter((r) => r.ok);
  const pool = ok.length > 0 ? ok : runs;
  if (pool.length === 0) return undefined;
  const sorted = [...pool].sort((a, b) => a.deliveriesPerSec - b.deliveriesPerSec);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

function printFanoutTable(kinds: FanoutKindResult[]): void {
  const header = ['kind', 'deliveries/s', 'p50 ms', 'p99 ms', 'srv CPU µs/deliv', 'srv CPU %', 'peak RSS MB', 'loadgen CPU %', 'note'];
  const rows: string[][] = [];
  for (const k of kinds) {
    const m = k.median;
    if (k.skipped !== undefined) {
      rows.push([k.kind, '', '', '', '', '', '', '', `skipped: ${k.skipped}`]);
    } else if (m === undefined) {
      rows.push([k.kind, '', '', '', '', '', '', '', 'no runs']);
    } else {
      const notes: string[] = [];
      if (!m.ok) notes.push(`FAILED: ${m.error ?? ''} (${fmtInt(m.deliveries)}/${fmtInt(m.expected)})`);
      if (k.runs.length > 1) notes.push(`median of ${k.runs.length}`);
      if (m.loadCpuUtil !== null && m.loadCpuUtil > 0.9) notes.push('load generator bound');
      rows.push([
        k.kind,
        fmtInt(m.deliveriesPerSec),
        fmt(m.p50Ms, 2),
        fmt(m.p99Ms, 2),
        fmt(m.serverCpuUsPerDelivery, 3),
        fmt(m.serverCpuUtil === null ? null : m.serverCpuUtil * 100, 0),
        fmt(m.peakRssMb, 1),
        fmt(m.loadCpuUtil === null ? null : m.loadCpuUtil * 100, 0),
        notes.join('; '),
      ]);
    }
  }
  printTable(header, rows);
}

export async function runFanout(o: FanoutOptions): Promise<FanoutReport> {
  const wanted = o.only !== undefined ? [o.only] : (o.kinds ?? DEFAULT_KINDS);
  const kinds = chatServers.filter((k) => wanted.includes(k.name));
  const results = new Map<string, FanoutKindResult>();
  for (const k of kinds) {
    const why = k.unavailable();
    results.set(k.name, { kind: k.name, ...(why !== undefined ? { skipped: why } : {}), runs: [] });
    if (why !== undefined) console.log(`${k.name}: skipped: ${why}`);
  }
  const runnable = kinds.filter((k) => results.get(k.name)!.skipped === undefined);
  const deliveries = o.senders * o.messages * (o.clients - 1);
  console.log(
    `fan-out: ${o.clients} clients in one channel, ${o.senders} senders x ${o.messages} messages of ${o.payload} B ` +
      `= ${fmtInt(deliveries)} deliveries, ${o.rate > 0 ? `paced at ${fmtInt(o.rate)} deliveries/s` : 'open loop'}` +
      `${canPin() ? ', server on CPU 0, load generator on CPU 1' : ', not pinned'}`,
  );
  // Interleave the kinds run by run so that drift on the machine hits them alike.
  for (let i = 0; i < o.runs; i++) {
    for (const k of runnable) {
      const label = o.runs > 1 ? `${k.name} run ${i + 1}/${o.runs}` : k.name;
      let run: FanoutRun;
      try {
        run = await runOnce(k, o);
      } catch (err) {
        run = failedRun(k.name, err instanceof Error ? err.message : String(err));
      }
      results.get(k.name)!.runs.push(run);
      console.log(
        run.ok
          ? `${label}: ${fmtInt(run.deliveriesPerSec)} deliveries/s, server ${fmt(run.serverCpuUsPerDelivery, 3)} µs CPU/delivery, ` +
              `p50 ${fmt(run.p50Ms, 2)} ms, p99 ${fmt(run.p99Ms, 2)} ms`
          : `${label}: FAILED: ${run.error}`,
      );
    }
  }
  for (const r of results.values()) r.median = medianRun(r.runs);

  const report: FanoutReport = {
    workload: 'fanout',
    date: new Date().toISOString(),
    machine: {
      cpus: os.availableParallelism(),
      model: os.cpus()[0]?.model ?? 'unknown',
      node: process.version,
      pinned: canPin(),
      clockTicksPerSecond: clockTicksPerSecond(),
    },
    options: o,
    kinds: [...results.values()],
  };

  console.log('');
  printFanoutTable(report.kinds);
  const bare = results.get('bare')?.median;
  const parley = results.get('parley')?.median;
  console.log('');
  if (bare?.ok && parley?.ok && bare.serverCpuUsPerDelivery && parley.serverCpuUsPerDelivery !== null) {
    const rateRatio = parley.deliveriesPerSec / bare.deliveriesPerSec;
    const cpuRatio = parley.serverCpuUsPerDelivery / bare.serverCpuUsPerDelivery;
    report.ratios = {
      deliveriesPerSec: rateRatio,
      deliveriesPerSecTarget: TARGET_RATE_RATIO,
      deliveriesPerSecPass: rateRatio >= TARGET_RATE_RATIO,
      cpuPerDelivery: cpuRatio,
      cpuPerDeliveryTarget: TARGET_CPU_RATIO,
      cpuPerDeliveryPass: cpuRatio <= TARGET_CPU_RATIO,
    };
    console.log(
      `parley/bare deliveries/s:      ${rateRatio.toFixed(2)}x  (target >= ${TARGET_RATE_RATIO}x)  ${rateRatio >= TARGET_RATE_RATIO ? 'PASS' : 'MISS'}`,
    );
    console.log(`parley/bare CPU per delivery:  ${cpuRatio.toFixed(2)}x  (target <= ${TARGET_CPU_RATIO}x)  ${cpuRatio <= TARGET_CPU_RATIO ? 'PASS' : 'MISS'}`);
  } else if (results.has('bare') || results.has('parley')) {
    console.log(
      `parley/bare ratios: n/a (need successful runs of both; targets: deliveries/s >= ${TARGET_RATE_RATIO}x, CPU per delivery <= ${TARGET_CPU_RATIO}x)`,
    );
  }
  const tick = 1e6 / clockTicksPerSecond();
  console.log(`(server CPU is utime+stime from /proc at ${fmtInt(tick)} µs resolution)`);

  if (o.out === '') return report;
  const out = o.out ?? path.join(ROOT_DIR, '.bench-results', 'fanout.json');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
  console.log(`results written to ${path.relative(process.cwd(), out) || out}`);
  return report;
}
