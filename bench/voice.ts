// The UDP voice workload: K concurrent 1:1 calls through parley's voice relay and through a
// bare dgram forwarder, measured in the same run. Relay pinned to CPU 0, load generator
// (dist/bench/voice-load.js) to CPU 1. Server CPU is the utime+stime delta between the load
// generator's `PHASE i START` and `PHASE i END` lines (its measured window), peak RSS is
// VmHWM at the end of the run.
//
// Paced runs: for each K of --calls, both parties of every call send --rate frames/s.
// Saturation: --sat-calls calls, the per-party rate stepped through --sat-rates (open-loop
// offered load 2 x calls x rate frames/s), each step measured; the highest relayed frames/s
// over the steps is the server's maximum.
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type ParsedArgs, numFlag, strFlag, boolFlag } from './args.js';
import { BenchChild, canPin } from './children.js';
import { readCpuMicros, readPeakRssKb } from './proc-stats.js';
import { cpuWindow, readCpuTimes, waitForQuietMachine, type CpuTimes } from './machine-load.js';
import { bareVoiceServer, parleyVoiceServer, DIST_DIR, ROOT_DIR, type ServerKind } from './servers.js';
import { fmt, fmtInt, machineInfo, passMiss, printTable, round, writeResults } from './table.js';

export interface VoiceOptions {
  only?: string;
  calls: number[];
  /** Frames/s per party in the paced runs. */
  rate: number;
  payload: number;
  warmupS: number;
  durationS: number;
  drainS: number;
  saturation: boolean;
  satCalls: number;
  satRates: number[];
  satDurationS: number;
  satSettleS: number;
  udpBuffer: number;
  /** Before each run, wait up to this many seconds for other processes to leave the CPUs. */
  quietWaitS: number;
  /** Paced runs per relay and K; the median by p99 is reported. */
  runs: number;
  /** Paced runs at the K of the targets (500): its p99 varies by 2-4x from run to run. */
  targetRuns: number;
  out?: string;
}

export const voiceDefaults: VoiceOptions = {
  calls: [100, 500, 1000],
  rate: 50,
  payload: 100,
  warmupS: 1,
  durationS: 3,
  drainS: 0.5,
  saturation: true,
  satCalls: 500,
  satRates: [80, 100, 120, 160],
  satDurationS: 2,
  satSettleS: 0.5,
  udpBuffer: 4 * 1024 * 1024,
  quietWaitS: 20,
  runs: 1,
  targetRuns: 3,
};

const voiceKinds: readonly ServerKind[] = [bareVoiceServer, parleyVoiceServer];

function numList(args: ParsedArgs, name: string, def: number[]): number[] {
  const raw = strFlag(args, name);
  if (raw === undefined) return def;
  const v = raw.split(',').map((s) => Number(s));
  if (v.length === 0 || v.some((x) => !Number.isFinite(x) || x <= 0)) throw new Error(`--${name}: positive numbers, comma-separated`);
  return v;
}

export function voiceOptionsFromArgs(args: ParsedArgs): VoiceOptions {
  const d = voiceDefaults;
  const only = strFlag(args, 'only');
  return {
    only,
    calls: numList(args, 'calls', d.calls).map((c) => Math.round(c)),
    rate: numFlag(args, 'frame-rate', d.rate, { min: 1, int: false }),
    payload: numFlag(args, 'payload', d.payload, { min: 1 }),
    warmupS: numFlag(args, 'voice-warmup', d.warmupS, { int: false }),
    durationS: numFlag(args, 'voice-duration', d.durationS, { min: 0.5, int: false }),
    drainS: numFlag(args, 'drain', d.drainS, { int: false }),
    saturation: !boolFlag(args, 'no-saturation'),
    satCalls: numFlag(args, 'sat-calls', d.satCalls, { min: 1 }),
    satRates: numList(args, 'sat-rates', d.satRates),
    satDurationS: numFlag(args, 'sat-duration', d.satDurationS, { min: 0.5, int: false }),
    satSettleS: numFlag(args, 'sat-settle', d.satSettleS, { int: false }),
    udpBuffer: numFlag(args, 'udp-buffer', d.udpBuffer, { min: 1 }),
    quietWaitS: numFlag(args, 'quiet-wait', d.quietWaitS, { int: false }),
    runs: numFlag(args, 'runs', d.runs, { min: 1 }),
    targetRuns: numFlag(args, 'target-runs', d.targetRuns, { min: 1 }),
    out: strFlag(args, 'out'),
  };
}

/** One measured phase of one run, load generator numbers plus the server's. */
export interface VoicePhase {
  ratePerParty: number;
  offeredFps: number;
  sentFps: number;
  relayedFps: number;
  sent: number;
  received: number;
  skipped: number;
  corrupt: number;
  lossPct: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
  meanMs: number | null;
  jitterMs: number | null;
  loadCpuS: number | null;
  loadCpuUtil: number | null;
  serverCpuS: number | null;
  serverCpuUsPerFrame: number | null;
  serverCpuUtil: number | null;
  /** How busy the relay's CPU was (process + softirq time of every process on it). */
  relayCpuBusy: number | null;
  /** Cores' worth of CPU used by processes outside the benchmark during the window. */
  otherCores: number | null;
}

export interface VoiceRun {
  kind: string;
  calls: number;
  ok: boolean;
  error?: string;
  skipped?: string;
  setupMs?: number;
  phases: VoicePhase[];
  peakRssMb: number | null;
  talksEnded?: number;
  unmeasuredReceived?: number;
  /** Paced runs with --runs > 1: this run had the median p99 of this many. */
  medianOf?: number;
  /** The first lines the load generator wrote on stderr, if any. */
  loadStderr?: string[];
}

interface LoadResult {
  error?: string;
  phases: Omit<VoicePhase, 'serverCpuS' | 'serverCpuUsPerFrame' | 'serverCpuUtil' | 'relayCpuBusy' | 'otherCores'>[];
  talksEnded: number;
  unmeasuredReceived: number;
}

async function runOnce(
  kind: ServerKind,
  o: VoiceOptions,
  calls: number,
  rates: number[],
  warmupS: number,
  settleS: number,
  durationS: number,
): Promise<VoiceRun> {
  if (o.quietWaitS > 0) {
    const q = await waitForQuietMachine(o.quietWaitS);
    if (q.otherCores !== null && q.otherCores >= 0.25) {
      console.log(`  (machine still busy after ${q.waitedS.toFixed(0)} s: other processes use ${q.otherCores.toFixed(2)} cores; measuring anyway)`);
    }
  }
  const server = await kind.start({ cpu: 0 });
  let load: BenchChild | undefined;
  let unsubscribe: (() => void) | undefined;
  try {
    const setupTimeoutS = 30 + calls / 20;
    load = new BenchChild(
      'voice-load',
      process.execPath,
      [
        path.join(DIST_DIR, 'bench', 'voice-load.js'),
        '--mode',
        kind.name === 'parley' ? 'parley' : 'bare',
        '--port',
        String(server.port),
        '--calls',
        String(calls),
        '--rates',
        rates.join(','),
        '--payload',
        String(o.payload),
        '--warmup',
        String(warmupS),
        '--settle',
        String(settleS),
        '--duration',
        String(durationS),
        '--drain',
        String(o.drainS),
        '--udp-buffer',
        String(o.udpBuffer),
        '--setup-timeout',
        String(setupTimeoutS),
        '--control-stdin',
      ],
      { cpu: 1, cwd: ROOT_DIR },
    );

    // Server CPU at the measured windows' edges.
    const cpuAt = new Map<string, { cpu: number | undefined; t: number; machine: CpuTimes | undefined }>();
    const watch = [server.child.pid, load.pid, process.pid];
    const loadErrors: string[] = [];
    unsubscribe = load.onLine((line, stream) => {
      if (stream !== 'stdout') {
        if (loadErrors.length < 5) loadErrors.push(line);
        return;
      }
      const m = /^PHASE (\d+) (START|END)$/.exec(line);
      if (m) cpuAt.set(`${m[1]} ${m[2]}`, { cpu: readCpuMicros(server.child.pid), t: performance.now(), machine: readCpuTimes(watch) });
    });
    const totalS = warmupS + rates.length * durationS + (rates.length - 1) * settleS + o.drainS;
    const resultP = load.waitForLine((l) => l.startsWith('{'), (setupTimeoutS + totalS + 30) * 1000, 'the result line');
    resultP.catch(() => undefined);
    const readyP = load.waitForLine((l) => l.startsWith('READY'), (setupTimeoutS + 10) * 1000, 'READY');
    readyP.catch(() => undefined);
    const first = await Promise.race([readyP.then((r) => r), resultP]);
    if (first.line.startsWith('{')) {
      const r = JSON.parse(first.line) as { error?: string };
      throw new Error(`load generator failed before READY: ${r.error ?? first.line}`);
    }
    const setupMs = Number(first.line.split(' ')[1]);
    load.send('GO\n');
    const { line } = await resultP;
    const rssKb = readPeakRssKb(server.child.pid);
    load.send('END\n');
    await load.waitOrKill(5000);
    const r = JSON.parse(line) as LoadResult;
    if (r.error !== undefined) throw new Error(r.error);
    const phases: VoicePhase[] = r.phases.map((ph, i) => {
      const a = cpuAt.get(`${i} START`);
      const b = cpuAt.get(`${i} END`);
      const cpuUs = a?.cpu !== undefined && b?.cpu !== undefined ? b.cpu - a.cpu : undefined;
      const wallS = a && b ? (b.t - a.t) / 1000 : undefined;
      const w = cpuWindow(a?.machine, b?.machine);
      return {
        ...ph,
        serverCpuS: cpuUs !== undefined ? round(cpuUs / 1e6, 3) : null,
        serverCpuUsPerFrame: cpuUs !== undefined && ph.received > 0 ? round(cpuUs / ph.received, 3) : null,
        serverCpuUtil: cpuUs !== undefined && wallS ? round(cpuUs / 1e6 / wallS, 3) : null,
        relayCpuBusy: w && canPin() ? round(w.busy[0] ?? NaN, 3) : null,
        otherCores: w ? round(w.otherCores, 3) : null,
      };
    });
    const bad = phases.find((p) => p.corrupt > 0);
    return {
      kind: kind.name,
      calls,
      ok: bad === undefined && r.talksEnded === 0,
      ...(bad ? { error: `${bad.corrupt} frames arrived corrupted` } : r.talksEnded > 0 ? { error: `${r.talksEnded} talks ended during the load` } : {}),
      setupMs,
      phases,
      peakRssMb: rssKb !== undefined ? round(rssKb / 1024, 1) : null,
      talksEnded: r.talksEnded,
      unmeasuredReceived: r.unmeasuredReceived,
      ...(loadErrors.length > 0 ? { loadStderr: loadErrors } : {}),
    };
  } finally {
    unsubscribe?.();
    if (load) await load.kill();
    await server.child.kill();
  }
}

function failed(kind: string, calls: number, error: string): VoiceRun {
  return { kind, calls, ok: false, error, phases: [], peakRssMb: null };
}

export interface VoiceReport {
  workload: 'voice';
  date: string;
  machine: ReturnType<typeof machineInfo>;
  options: VoiceOptions;
  skipped: Record<string, string>;
  /** The reported paced runs (the median by p99 per relay and K with --runs). */
  paced: VoiceRun[];
  /** Every paced run. */
  pacedAll: VoiceRun[];
  pacedRatios: { calls: number; fps: number | null; cpuPerFrame: number | null; p99: number | null }[];
  saturation: {
    kind: string;
    run: VoiceRun;
    maxRelayedFps: number | null;
    firstLossyOfferedFps: number | null;
    /** The relay's CPU was >= 95 % busy at its best step. */
    cpuBound: boolean;
    /** Best step's relayed frames/s / relay CPU busy fraction: what a fully busy relay core would carry. */
    capacityEstFps: number | null;
  }[];
  targets: { name: string; value: number | null; target: string; pass: boolean | null }[];
}

function ratio(a: number | null | undefined, b: number | null | undefined): number | null {
  return a !== null && a !== undefined && b !== null && b !== undefined && b > 0 && Number.isFinite(a) ? a / b : null;
}

export async function runVoice(o: VoiceOptions): Promise<VoiceReport> {
  const kinds = voiceKinds.filter((k) => o.only === undefined || k.name === o.only);
  if (kinds.length === 0) console.log(`voice: --only ${o.only} selects none of ${voiceKinds.map((k) => k.name).join(', ')}`);
  const skipped: Record<string, string> = {};
  for (const k of kinds) {
    const why = k.unavailable();
    if (why !== undefined) {
      skipped[k.name] = why;
      console.log(`${k.name}: skipped: ${why}`);
    }
  }
  const runnable = kinds.filter((k) => skipped[k.name] === undefined);
  console.log(
    `voice: K 1:1 calls, both parties sending ${o.rate} frames/s of ${o.payload} B payload, K = ${o.calls.join(', ')}; ` +
      `${o.warmupS} s warm-up, ${o.durationS} s measured${canPin() ? '; relay on CPU 0, load generator on CPU 1' : '; not pinned'}`,
  );

  const allPaced: VoiceRun[] = [];
  // With --runs N, the Ks and relays are interleaved run by run, so that drift on the
  // machine hits them alike; the run with the median p99 is reported per relay and K.
  const targetK = o.calls.includes(500) ? 500 : o.calls[Math.floor(o.calls.length / 2)]!;
  const runsFor = (calls: number): number => (calls === targetK ? Math.max(o.runs, o.targetRuns) : o.runs);
  const maxRuns = Math.max(...o.calls.map(runsFor));
  for (let i = 0; i < maxRuns; i++) {
    for (const calls of o.calls) {
      if (i >= runsFor(calls)) continue;
      for (const k of runnable) {
        let run: VoiceRun;
        try {
          run = await runOnce(k, o, calls, [o.rate], o.warmupS, 0, o.durationS);
        } catch (err) {
          run = failed(k.name, calls, err instanceof Error ? err.message : String(err));
        }
        allPaced.push(run);
        const p = run.phases[0];
        const label = `${k.name} K=${calls}${runsFor(calls) > 1 ? ` run ${i + 1}/${runsFor(calls)}` : ''}`;
        console.log(
          p
            ? `${label}: ${fmtInt(p.relayedFps)} frames/s relayed, loss ${fmt(p.lossPct, 3)} %, p50 ${fmt(p.p50Ms, 2)} ms, ` +
                `p99 ${fmt(p.p99Ms, 2)} ms, ${fmt(p.serverCpuUsPerFrame, 2)} µs CPU/frame${run.ok ? '' : ` (${run.error})`}`
            : `${label}: FAILED: ${run.error}`,
        );
      }
    }
  }
  const paced: VoiceRun[] = [];
  for (const calls of o.calls) {
    for (const k of runnable) {
      const runs = allPaced.filter((r) => r.kind === k.name && r.calls === calls);
      const ok = runs.filter((r) => r.ok && r.phases[0] !== undefined);
      const pool = ok.length > 0 ? ok : runs;
      const sorted = [...pool].sort((a, b) => (a.phases[0]?.p99Ms ?? Infinity) - (b.phases[0]?.p99Ms ?? Infinity));
      const median = sorted[Math.floor((sorted.length - 1) / 2)];
      if (median) paced.push(runs.length > 1 ? { ...median, medianOf: runs.length } : median);
    }
  }

  const saturation: VoiceReport['saturation'] = [];
  if (o.saturation) {
    console.log(
      `\nsaturation: ${o.satCalls} calls, per-party rate stepped through ${o.satRates.join(', ')} frames/s ` +
        `(offered ${o.satRates.map((r) => fmtInt(2 * o.satCalls * r)).join(', ')} frames/s), ${o.satDurationS} s per step`,
    );
    for (const k of runnable) {
      let run: VoiceRun;
      try {
        run = await runOnce(k, o, o.satCalls, o.satRates, o.warmupS, o.satSettleS, o.satDurationS);
      } catch (err) {
        run = failed(k.name, o.satCalls, err instanceof Error ? err.message : String(err));
      }
      let best: VoicePhase | undefined;
      for (const p of run.phases) if (best === undefined || p.relayedFps > best.relayedFps) best = p;
      const lossy = run.phases.find((p) => p.lossPct !== null && p.lossPct > 1);
      // The relay's core is saturated when it was (nearly) always busy: its process plus the
      // softirq work of its sends, which the kernel does on its CPU and charges to nobody.
      const busy = best?.relayCpuBusy ?? best?.serverCpuUtil ?? null;
      const cpuBound = busy !== null && busy >= 0.95;
      // What a fully busy relay core would carry, extrapolated from the best step (its CPU's
      // busy time includes the softirq work of the relay's sends).
      let capacityEstFps: number | null = null;
      for (const p of run.phases) {
        const b = p.relayCpuBusy ?? p.serverCpuUtil;
        if (b !== null && b >= 0.5) capacityEstFps = Math.max(capacityEstFps ?? 0, Math.round(p.relayedFps / Math.min(1, b)));
      }
      saturation.push({
        kind: k.name,
        run,
        maxRelayedFps: best?.relayedFps ?? null,
        firstLossyOfferedFps: lossy?.offeredFps ?? null,
        cpuBound,
        capacityEstFps,
      });
      console.log(
        best
          ? `${k.name}: max ${fmtInt(best.relayedFps)} frames/s relayed (offered ${fmtInt(best.offeredFps)}, server CPU ${fmt((best.serverCpuUtil ?? NaN) * 100, 0)} %)` +
              `${lossy ? `, loss > 1 % from ${fmtInt(lossy.offeredFps)} offered` : ', loss <= 1 % at every step'}`
          : `${k.name}: FAILED: ${run.error}`,
      );
    }
  }

  // ---- report -------------------------------------------------------------------------
  console.log('');
  const header = [
    'server',
    'K',
    'frames/s',
    'loss %',
    'p50 ms',
    'p99 ms',
    'jitter ms',
    'srv µs/frame',
    'srv CPU %',
    'CPU0 busy %',
    'peak RSS MB',
    'load CPU %',
    'note',
  ];
  const rows: string[][] = [];
  for (const name of Object.keys(skipped)) rows.push([name, '', '', '', '', '', '', '', '', '', '', '', `skipped: ${skipped[name]}`]);
  for (const r of paced) rows.push(voiceRow(r, String(r.calls), r.phases[0]));
  printTable(header, rows);

  const pacedRatios: VoiceReport['pacedRatios'] = [];
  const targets: VoiceReport['targets'] = [];
  const find = (kind: string, calls: number): VoicePhase | undefined => paced.find((r) => r.kind === kind && r.calls === calls && r.ok)?.phases[0];
  console.log('');
  const rrows: string[][] = [];
  for (const calls of o.calls) {
    const b = find('bare', calls);
    const p = find('parley', calls);
    const x = {
      calls,
      fps: ratio(p?.relayedFps, b?.relayedFps),
      cpuPerFrame: ratio(p?.serverCpuUsPerFrame, b?.serverCpuUsPerFrame),
      p99: ratio(p?.p99Ms, b?.p99Ms),
    };
    pacedRatios.push(x);
    rrows.push([String(calls), fmt(x.fps, 2), fmt(x.cpuPerFrame, 2), fmt(x.p99, 2)]);
  }
  printTable(
    ['parley/bare at K', 'frames/s', 'CPU/frame', 'p99'],
    rrows.map((r) => [...r, '']),
  );

  if (o.saturation && saturation.length > 0) {
    console.log('');
    const srows: string[][] = [];
    for (const s of saturation) {
      for (const p of s.run.phases) {
        srows.push([
          s.kind,
          fmtInt(p.offeredFps),
          fmtInt(p.sentFps),
          fmtInt(p.relayedFps),
          fmt(p.lossPct, 2),
          fmt(p.p99Ms, 2),
          fmt(p.serverCpuUsPerFrame, 2),
          fmt(p.serverCpuUtil === null ? null : p.serverCpuUtil * 100, 0),
          fmt(p.relayCpuBusy === null ? null : p.relayCpuBusy * 100, 0),
          fmt(p.loadCpuUtil === null ? null : p.loadCpuUtil * 100, 0),
          phaseNotes(p).join('; '),
        ]);
      }
      if (!s.run.ok && s.run.phases.length === 0) srows.push([s.kind, '', '', '', '', '', '', '', '', '', `FAILED: ${s.run.error}`]);
    }
    printTable(['saturation', 'offered/s', 'sent/s', 'relayed/s', 'loss %', 'p99 ms', 'srv µs/frame', 'srv CPU %', 'CPU0 busy %', 'load CPU %', 'note'], srows);
    console.log('');
    for (const s of saturation) {
      console.log(
        `${s.kind}: max relayed ${fmtInt(s.maxRelayedFps)} frames/s` +
          `${s.cpuBound ? ' (relay CPU-bound)' : ' (relay core not saturated: the load generator limited it)'}; ` +
          `capacity estimate (relayed/s ÷ relay CPU busy) ${fmtInt(s.capacityEstFps)} frames/s`,
      );
    }
  }

  // Targets.
  console.log('');
  const k500 = targetK;
  const p500 = find('parley', k500);
  const r500 = pacedRatios.find((r) => r.calls === k500);
  const addTarget = (name: string, value: number | null, target: string, test: (v: number) => boolean, digits: number, unit: string): void => {
    const pass = value === null ? null : test(value);
    targets.push({ name, value, target, pass });
    console.log(`${name.padEnd(40)} ${(fmt(value, digits) + unit).padStart(9)}  (target ${target})  ${pass === null ? 'n/a' : passMiss(pass)}`);
  };
  addTarget(`parley loss at K=${k500}`, p500?.lossPct ?? null, '<= 0.1 %', (v) => v <= 0.1, 3, ' %');
  addTarget(`parley/bare CPU per frame at K=${k500}`, r500?.cpuPerFrame ?? null, '<= 1.5x', (v) => v <= 1.5, 2, 'x');
  addTarget(`parley/bare p99 at K=${k500}`, r500?.p99 ?? null, '<= 2x', (v) => v <= 2, 2, 'x');
  const satB = saturation.find((s) => s.kind === 'bare');
  const satP = saturation.find((s) => s.kind === 'parley');
  // Measured maxima compare the relays only when both saturated their core; otherwise the
  // load generator capped both and the capacity estimates are compared instead.
  const bothBound = satB?.cpuBound === true && satP?.cpuBound === true;
  const satRatio = bothBound ? ratio(satP?.maxRelayedFps, satB?.maxRelayedFps) : ratio(satP?.capacityEstFps, satB?.capacityEstFps);
  addTarget(bothBound ? 'parley/bare saturation frames/s' : 'parley/bare saturation (capacity estimate)', satRatio, '>= 0.7x', (v) => v >= 0.7, 2, 'x');
  const measuredRatio = ratio(satP?.maxRelayedFps, satB?.maxRelayedFps);
  if (!bothBound && measuredRatio !== null) {
    console.log(`(measured max relayed frames/s parley/bare ${measuredRatio.toFixed(2)}x, but not both relays were CPU-bound)`);
  }

  const report: VoiceReport = {
    workload: 'voice',
    date: new Date().toISOString(),
    machine: machineInfo(),
    options: o,
    skipped,
    paced,
    pacedAll: allPaced,
    pacedRatios,
    saturation,
    targets,
  };
  writeResults('voice', report, o.out);
  return report;
}

function voiceRow(r: VoiceRun, label: string, p: VoicePhase | undefined): string[] {
  if (p === undefined) return [r.kind, label, '', '', '', '', '', '', '', '', '', '', `FAILED: ${r.error ?? ''}`];
  const notes = phaseNotes(p);
  if (!r.ok) notes.unshift(`FAILED: ${r.error ?? ''}`);
  if (r.medianOf !== undefined) notes.unshift(`median p99 of ${r.medianOf}`);
  return [
    r.kind,
    label,
    fmtInt(p.relayedFps),
    fmt(p.lossPct, 3),
    fmt(p.p50Ms, 2),
    fmt(p.p99Ms, 2),
    fmt(p.jitterMs, 3),
    fmt(p.serverCpuUsPerFrame, 2),
    fmt(p.serverCpuUtil === null ? null : p.serverCpuUtil * 100, 0),
    fmt(p.relayCpuBusy === null ? null : p.relayCpuBusy * 100, 0),
    fmt(r.peakRssMb, 1),
    fmt(p.loadCpuUtil === null ? null : p.loadCpuUtil * 100, 0),
    notes.join('; '),
  ];
}

function phaseNotes(p: VoicePhase): string[] {
  const notes: string[] = [];
  if (p.skipped > 0) notes.push(`load generator behind (${fmtInt(p.skipped)} frames not offered)`);
  else if (p.loadCpuUtil !== null && p.loadCpuUtil > 0.9) notes.push('load generator bound');
  if (p.otherCores !== null && p.otherCores > 0.1) notes.push(`machine busy: other processes used ${fmt(p.otherCores, 2)} cores`);
  return notes;
}
