// The Socket.IO comparison: the chat fan-out of bench/fanout.ts against bare, parley and
// socket.io 4 with rooms (each its own pinned process, one run), with the ratios to bare
// and parley vs socket.io; then parley paced at a fixed deliveries/s for its latency.
//
// socket.io is a kind of the fan-out table (bench/servers.ts: dist/bench/socketio-server.js,
// driven by dist/bench/socketio-load.js), so `run.js fanout` shows it too; when `all` ran
// the fan-out workload with the same options just before, its runs are reused here.
import { type ParsedArgs, numFlag } from './args.js';
import { fanoutOptionsFromArgs, runFanout, type FanoutOptions, type FanoutReport, type FanoutRun } from './fanout.js';
import { fmt, fmtInt, machineInfo, passMiss, printTable, writeResults } from './table.js';
import { waitForQuietMachine } from './machine-load.js';

export interface SocketioOptions {
  fanout: FanoutOptions;
  /** Deliveries/s of the paced parley run; 0 skips it. */
  pacedRate: number;
  /** Messages per sender in the paced run. */
  pacedMessages: number;
}

export function socketioOptionsFromArgs(args: ParsedArgs): SocketioOptions {
  return {
    fanout: fanoutOptionsFromArgs(args),
    pacedRate: numFlag(args, 'paced-rate', 50_000, { int: false }),
    pacedMessages: numFlag(args, 'paced-messages', 100, { min: 1 }),
  };
}

const TARGET_VS_SOCKETIO = 10; // parley deliveries/s >= 10 x socket.io
const TARGET_PACED_P99_MS = 5;

export interface SocketioReport {
  workload: 'socketio';
  date: string;
  machine: ReturnType<typeof machineInfo>;
  options: SocketioOptions;
  reusedFanoutRun: boolean;
  fanout: FanoutReport;
  kinds: {
    kind: string;
    skipped?: string;
    deliveriesPerSec: number | null;
    p50Ms: number | null;
    p99Ms: number | null;
    serverCpuS: number | null;
    serverCpuUsPerDelivery: number | null;
    peakRssMb: number | null;
    deliveriesPerSecVsBare: number | null;
    cpuPerDeliveryVsBare: number | null;
  }[];
  parleyVsSocketio: { deliveriesPerSec: number | null; target: number; pass: boolean | null; cpuPerDelivery: number | null };
  paced?: { rate: number; run: FanoutRun | undefined; p99TargetMs: number; pass: boolean | null };
}

function sameLoad(a: FanoutOptions, b: FanoutOptions): boolean {
  const keys: (keyof FanoutOptions)[] = ['clients', 'senders', 'messages', 'payload', 'rate', 'runs', 'window', 'batch', 'warmup', 'sampleEvery'];
  return keys.every((k) => a[k] === b[k]);
}

export async function runSocketio(o: SocketioOptions, earlier?: FanoutReport): Promise<SocketioReport> {
  const fo: FanoutOptions = { ...o.fanout, only: undefined, kinds: ['bare', 'parley', 'socket.io'], out: '' };
  const reuse =
    earlier !== undefined &&
    sameLoad(earlier.options, fo) &&
    earlier.options.only === undefined &&
    ['bare', 'parley', 'socket.io'].every((k) => earlier.kinds.some((x) => x.kind === k));
  let report: FanoutReport;
  if (reuse) {
    console.log('(the fan-out runs of bare, parley and socket.io from the fanout workload above are reused)');
    report = earlier;
  } else {
    await waitForQuietMachine(20);
    report = await runFanout(fo);
  }
  const get = (kind: string): FanoutRun | undefined => {
    const m = report.kinds.find((k) => k.kind === kind)?.median;
    return m?.ok ? m : undefined;
  };
  const bare = get('bare');
  const ratio = (a: number | null | undefined, b: number | null | undefined): number | null =>
    a !== null && a !== undefined && b !== null && b !== undefined && b > 0 ? a / b : null;

  const kinds: SocketioReport['kinds'] = report.kinds.map((k) => {
    const m = k.median?.ok ? k.median : undefined;
    return {
      kind: k.kind,
      ...(k.skipped !== undefined ? { skipped: k.skipped } : m === undefined ? { skipped: k.median?.error ?? 'no successful run' } : {}),
      deliveriesPerSec: m?.deliveriesPerSec ?? null,
      p50Ms: m?.p50Ms ?? null,
      p99Ms: m?.p99Ms ?? null,
      serverCpuS: m?.serverCpuS ?? null,
      serverCpuUsPerDelivery: m?.serverCpuUsPerDelivery ?? null,
      peakRssMb: m?.peakRssMb ?? null,
      deliveriesPerSecVsBare: ratio(m?.deliveriesPerSec, bare?.deliveriesPerSec),
      cpuPerDeliveryVsBare: ratio(m?.serverCpuUsPerDelivery, bare?.serverCpuUsPerDelivery),
    };
  });

  console.log('');
  printTable(
    ['kind', 'deliveries/s', 'p50 ms', 'p99 ms', 'srv CPU s', 'srv µs/deliv', 'peak RSS MB', 'deliv/s vs bare', 'CPU/deliv vs bare', 'note'],
    kinds.map((k) => [
      k.kind,
      fmtInt(k.deliveriesPerSec),
      fmt(k.p50Ms, 2),
      fmt(k.p99Ms, 2),
      fmt(k.serverCpuS, 2),
      fmt(k.serverCpuUsPerDelivery, 3),
      fmt(k.peakRssMb, 1),
      k.deliveriesPerSecVsBare === null ? '-' : `${k.deliveriesPerSecVsBare.toFixed(3)}x`,
      k.cpuPerDeliveryVsBare === null ? '-' : `${k.cpuPerDeliveryVsBare.toFixed(2)}x`,
      k.skipped !== undefined ? `skipped: ${k.skipped}` : '',
    ]),
  );
  const parley = get('parley');
  const sio = get('socket.io');
  const vs = ratio(parley?.deliveriesPerSec, sio?.deliveriesPerSec);
  const cpuVs = ratio(sio?.serverCpuUsPerDelivery, parley?.serverCpuUsPerDelivery);
  const parleyVsSocketio = { deliveriesPerSec: vs, target: TARGET_VS_SOCKETIO, pass: vs === null ? null : vs >= TARGET_VS_SOCKETIO, cpuPerDelivery: cpuVs };
  console.log('');
  console.log(
    `parley/socket.io deliveries/s:  ${vs === null ? 'n/a' : `${vs.toFixed(1)}x`}  (target >= ${TARGET_VS_SOCKETIO}x)  ${vs === null ? 'n/a' : passMiss(vs >= TARGET_VS_SOCKETIO)}`,
  );
  if (cpuVs !== null) console.log(`socket.io/parley server CPU per delivery: ${cpuVs.toFixed(1)}x`);

  let paced: SocketioReport['paced'];
  if (o.pacedRate > 0) {
    const deliveries = o.fanout.senders * o.pacedMessages * (o.fanout.clients - 1);
    console.log(`\nparley paced at ${fmtInt(o.pacedRate)} deliveries/s (${o.pacedMessages} messages per sender, ~${fmt(deliveries / o.pacedRate, 1)} s):`);
    await waitForQuietMachine(20);
    const pr = await runFanout({ ...o.fanout, only: 'parley', kinds: undefined, rate: o.pacedRate, messages: o.pacedMessages, runs: 1, out: '' });
    const run = pr.kinds.find((k) => k.kind === 'parley')?.median;
    const p99 = run?.ok ? run.p99Ms : null;
    paced = { rate: o.pacedRate, run, p99TargetMs: TARGET_PACED_P99_MS, pass: p99 === null ? null : p99 < TARGET_PACED_P99_MS };
    console.log(
      `parley p99 at ${fmtInt(o.pacedRate)} deliveries/s: ${fmt(p99, 2)} ms  (target < ${TARGET_PACED_P99_MS} ms)  ${p99 === null ? 'n/a' : passMiss(p99 < TARGET_PACED_P99_MS)}` +
        (run?.ok ? `  (achieved ${fmtInt(run.deliveriesPerSec)} deliveries/s, p50 ${fmt(run.p50Ms, 2)} ms)` : ''),
    );
  }

  const out: SocketioReport = {
    workload: 'socketio',
    date: new Date().toISOString(),
    machine: machineInfo(),
    options: o,
    reusedFanoutRun: reuse,
    fanout: report,
    kinds,
    parleyVsSocketio,
    ...(paced ? { paced } : {}),
  };
  writeResults('socketio', out);
  return out;
}
