// Memory per idle connection: the server's RSS with N idle, logged-in connections minus its
// RSS with none, divided by N, for parley (CONNECT, then in the default channel #lobby),
// socket.io (connected, in a room) and the bare net server (CONNECT + JOIN #lobby, which
// announces joins as parley does: USERLIST to the joiner, USERJOIN to the members); and over
// WebSocket, parley-ws (`parley serve`, clients at ws://127.0.0.1:<port>/parley, CONNECT, then
// in #lobby) beside bare-ws (bare-ws-server.js: the same), target parley-ws <= 1.5x bare-ws.
//
// Per kind: start the server (parley: serve --port 0 --rate-limit 0 --max-per-ip 0
// --log-level warn, plus no connection limits and no PING or handshake deadline within a
// run, as the bare servers have none), open its inspector (SIGUSR1) for forced
// GCs, let it settle, force a GC, read VmRSS (baseline); connect N clients from
// --client-procs idle-clients processes (each holds N/procs sockets, below the per-process
// open-file limit); once all are logged in, wait until the server's CPU is quiet (its
// O(n^2) #lobby traffic drained), wait --settle seconds, read VmRSS (settled), force a GC,
// wait again, read VmRSS (after GC).
// KiB per connection = (after-GC RSS - baseline RSS) / N; without the inspector (the `ws`
// package missing or port 9229 taken) the settled RSS is used for both.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { type ParsedArgs, boolFlag, numFlag, strFlag } from './args.js';
import { BenchChild, delay } from './children.js';
import { InspectorSession } from './inspector-gc.js';
import { clockTicksPerSecond, readCpuTicks, readPeakRssKb, readRssKb } from './proc-stats.js';
import {
  bareServer,
  bareWsServer,
  parleyServer,
  parleyWsServer,
  socketioServer,
  startParley,
  DIST_DIR,
  ROOT_DIR,
  type RunningServer,
  type ServerKind,
} from './servers.js';
import { fmt, fmtInt, machineInfo, passMiss, printTable, round, writeResults } from './table.js';

export interface MemoryOptions {
  /** One kind or a comma-separated list (parley, socket.io, bare, parley-ws, bare-ws). */
  only?: string;
  connections: number;
  /** Client processes; 0 = as few as the open-file limit allows, at least 2. */
  clientProcs: number;
  concurrency: number;
  settleS: number;
  localAddrs: number;
  /** Longest wait for the connections to log in, seconds. */
  connectTimeoutS: number;
  /** parley and bare: open all connections, then send every CONNECT at once. */
  barrier: boolean;
  /** With the barrier: CONNECTs in flight per wave, over all client processes; 0 = all at once. */
  wave: number;
  /**
   * Clients log in and join no channel (parley with `--default-channel none`): the cost of a
   * connection alone, without the O(n²) USERJOIN/USERLIST traffic of a shared #lobby
   * (whose residue in the allocator dominates the figures with a channel).
   */
  noChannel?: boolean;
  out?: string;
}

export const memoryDefaults: MemoryOptions = {
  connections: 10_000,
  clientProcs: 0,
  concurrency: 250,
  settleS: 2,
  localAddrs: 1,
  connectTimeoutS: 300,
  barrier: true,
  wave: 100,
};

/**
 * `parley serve` for idle clients: besides the benchmark flags, no limit on connections or
 * their rate, and neither PINGs nor a CONNECT deadline within a run (the bare servers send
 * nothing and close nothing either; at 10,000 connections opened first and logged in in
 * waves, the last wave comes after the default 30 s handshake timeout).
 */
const IDLE_PARLEY_FLAGS = ['--max-connections', '0', '--connect-rate', '0', '--handshake-timeout', '1h', '--ping-interval', '1h', '--ping-timeout', '2h'];
const parleyIdleServer: ServerKind = { ...parleyServer, start: (opts) => startParley(opts, IDLE_PARLEY_FLAGS) };
const parleyWsIdleServer: ServerKind = { ...parleyWsServer, start: (opts) => startParley(opts, IDLE_PARLEY_FLAGS) };

const memoryKinds: readonly ServerKind[] = [parleyIdleServer, socketioServer, bareServer, parleyWsIdleServer, bareWsServer];
const TARGET_PARLEY_KIB = 10;
/** An idle WebSocket connection costs parley at most this many times a bare `ws` one (issue 10). */
const TARGET_WS_VS_BARE_WS = 1.5;

export function memoryOptionsFromArgs(args: ParsedArgs): MemoryOptions {
  const d = memoryDefaults;
  return {
    only: strFlag(args, 'only'),
    connections: numFlag(args, 'connections', d.connections, { min: 1 }),
    clientProcs: numFlag(args, 'client-procs', d.clientProcs),
    concurrency: numFlag(args, 'connect-concurrency', d.concurrency, { min: 1 }),
    settleS: numFlag(args, 'settle', d.settleS, { int: false }),
    localAddrs: numFlag(args, 'local-addrs', d.localAddrs, { min: 1 }),
    connectTimeoutS: numFlag(args, 'connect-timeout', d.connectTimeoutS, { min: 1, int: false }),
    barrier: !boolFlag(args, 'no-barrier'),
    wave: numFlag(args, 'wave', d.wave),
    noChannel: boolFlag(args, 'no-channel'),
    out: strFlag(args, 'out'),
  };
}

/** The soft open-file limit of this process (children inherit it). */
function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+|unlimited)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
    if (!m) return undefined;
    return m[1] === 'unlimited' ? Infinity : Number(m[1]);
  } catch {
    return undefined;
  }
}

export interface MemoryResult {
  kind: string;
  ok: boolean;
  error?: string;
  skipped?: string;
  connections: number;
  clientProcs: number;
  /** With the barrier: seconds to open every TCP connection. */
  openS?: number | null;
  /** Seconds until every client was logged in and in its channel (from the LOGIN with the barrier). */
  connectS: number | null;
  quietS: number | null;
  serverCpuConnectS: number | null;
  baselineRssKb: number | null;
  settledRssKb: number | null;
  afterGcRssKb: number | null;
  peakRssKb: number | null;
  forcedGc: boolean;
  gcNote?: string;
  kibPerConnection: number | null;
  kibPerConnectionSettled: number | null;
  /** V8 heap used after the forced GC, minus baseline, per connection (needs the inspector). */
  heapKibPerConnection?: number | null;
  /** Memory outside the V8 heap that V8 knows of (Buffers etc.), per connection. */
  externalKibPerConnection?: number | null;
  memoryUsage?: { baseline: NodeJS.MemoryUsage; afterGc: NodeJS.MemoryUsage };
}

function empty(kind: string, n: number, procs: number): MemoryResult {
  return {
    kind,
    ok: false,
    connections: n,
    clientProcs: procs,
    connectS: null,
    quietS: null,
    serverCpuConnectS: null,
    baselineRssKb: null,
    settledRssKb: null,
    afterGcRssKb: null,
    peakRssKb: null,
    forcedGc: false,
    kibPerConnection: null,
    kibPerConnectionSettled: null,
  };
}

/** Waits until the process used < 2 ticks of CPU in each of two consecutive 500 ms windows. */
async function waitQuiet(pid: number, maxS: number): Promise<number> {
  const t0 = performance.now();
  let quiet = 0;
  let last = readCpuTicks(pid) ?? 0;
  while (performance.now() - t0 < maxS * 1000) {
    await delay(500);
    const now = readCpuTicks(pid) ?? 0;
    quiet = now - last < 2 ? quiet + 1 : 0;
    last = now;
    if (quiet >= 2) break;
  }
  return (performance.now() - t0) / 1000;
}

async function measure(kind: ServerKind, o: MemoryOptions, procs: number): Promise<MemoryResult> {
  const r = empty(kind.name, o.connections, procs);
  const parleyKind = kind.name === 'parley' || kind.name === 'parley-ws';
  const server: RunningServer =
    o.noChannel && parleyKind ? await startParley({ cpu: 0 }, [...IDLE_PARLEY_FLAGS, '--default-channel', 'none']) : await kind.start({ cpu: 0 });
  const clients: BenchChild[] = [];
  let inspector: InspectorSession | undefined;
  try {
    const pid = server.child.pid;
    try {
      inspector = await InspectorSession.open(server.child);
    } catch (err) {
      r.gcNote = `no forced GC: ${err instanceof Error ? err.message : String(err)}`;
    }
    await delay(1000);
    if (inspector) await inspector.collectGarbage();
    await delay(1000);
    r.baselineRssKb = readRssKb(pid) ?? null;
    const mu0 = inspector ? await inspector.memoryUsage().catch(() => undefined) : undefined;
    const cpu0 = readCpuTicks(pid) ?? 0;

    let t0 = performance.now();
    const per = Math.ceil(o.connections / procs);
    const done: Promise<void>[] = [];
    const opened: Promise<void>[] = [];
    // All but socket.io: open every connection first, then log them all in (in waves).
    const barrier = o.barrier && kind.name !== 'socket.io';
    for (let i = 0; i < procs; i++) {
      const n = Math.min(per, o.connections - i * per);
      if (n <= 0) break;
      const c = new BenchChild(
        `idle-clients ${i}`,
        process.execPath,
        [
          path.join(DIST_DIR, 'bench', 'idle-clients.js'),
          '--kind',
          kind.name,
          ...(o.noChannel ? ['--no-channel'] : []),
          '--port',
          String(server.port),
          '--count',
          String(n),
          '--first',
          String(i * per),
          '--concurrency',
          String(Math.max(1, Math.ceil(o.concurrency / procs))),
          '--local-addrs',
          String(o.localAddrs),
          '--timeout',
          String(o.connectTimeoutS),
          '--parent-stdin',
          ...(barrier ? ['--barrier', '--wave', String(Math.ceil(o.wave / procs))] : []),
        ],
        { cwd: ROOT_DIR },
      );
      clients.push(c);
      if (barrier) {
        opened.push(
          c.waitForLine(/^(OPEN|FAILED)/, (o.connectTimeoutS + 30) * 1000, 'its connections to open').then(({ line }) => {
            if (line.startsWith('FAILED')) throw new Error(`${c.label}: ${line}`);
          }),
        );
      }
      done.push(
        c.waitForLine(/^(CONNECTED|FAILED)/, (o.connectTimeoutS + 30) * 1000, 'its clients to log in').then(({ line }) => {
          if (line.startsWith('FAILED')) throw new Error(`${c.label}: ${line}`);
        }),
      );
    }
    for (const d of done) d.catch(() => undefined);
    if (barrier) {
      await Promise.all(opened);
      r.openS = round((performance.now() - t0) / 1000, 1);
      t0 = performance.now();
      for (const c of clients) c.send('LOGIN\n');
    }
    const progress = setInterval(() => {
      const mb = (readRssKb(pid) ?? 0) / 1024;
      console.log(`  ${kind.name}: ${((performance.now() - t0) / 1000).toFixed(0)} s, server RSS ${mb.toFixed(0)} MB`);
    }, 5000);
    try {
      await Promise.all(done);
    } finally {
      clearInterval(progress);
    }
    r.connectS = round((performance.now() - t0) / 1000, 1);
    r.quietS = round(await waitQuiet(pid, 120), 1);
    r.serverCpuConnectS = round(((readCpuTicks(pid) ?? 0) - cpu0) / clockTicksPerSecond(), 2);
    await delay(o.settleS * 1000);
    r.settledRssKb = readRssKb(pid) ?? null;
    if (inspector) {
      await inspector.collectGarbage();
      await delay(o.settleS * 1000);
      r.forcedGc = true;
    }
    r.afterGcRssKb = readRssKb(pid) ?? null;
    const mu1 = inspector ? await inspector.memoryUsage().catch(() => undefined) : undefined;
    if (mu0 && mu1) {
      r.heapKibPerConnection = round((mu1.heapUsed - mu0.heapUsed) / 1024 / o.connections, 2);
      r.externalKibPerConnection = round((mu1.external - mu0.external) / 1024 / o.connections, 2);
      r.memoryUsage = { baseline: mu0, afterGc: mu1 };
    }
    r.peakRssKb = readPeakRssKb(pid) ?? null;
    for (const c of clients) if (!c.alive) throw new Error(`${c.label} exited early\n${c.recentOutput()}`);
    if (!server.child.alive) throw new Error('the server exited');
    const b = r.baselineRssKb;
    r.kibPerConnection = b !== null && r.afterGcRssKb !== null ? round((r.afterGcRssKb - b) / o.connections, 2) : null;
    r.kibPerConnectionSettled = b !== null && r.settledRssKb !== null ? round((r.settledRssKb - b) / o.connections, 2) : null;
    r.ok = true;
    return r;
  } catch (err) {
    r.error = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return r;
  } finally {
    inspector?.close();
    await Promise.all(clients.map((c) => c.kill()));
    await server.child.kill();
  }
}

export interface MemoryReport {
  workload: 'memory';
  date: string;
  machine: ReturnType<typeof machineInfo>;
  options: MemoryOptions;
  openFileLimit: number | null;
  clientProcs: number;
  results: MemoryResult[];
  target: { kibPerConnection: number; value: number | null; pass: boolean | null };
  /** parley-ws KiB/conn ÷ bare-ws KiB/conn (after GC). */
  wsTarget: { ratio: number; value: number | null; pass: boolean | null };
}

export async function runMemory(o: MemoryOptions): Promise<MemoryReport> {
  const only = o.only === undefined ? undefined : o.only.split(',').map((k) => k.trim());
  const unknown = only?.filter((k) => !memoryKinds.some((m) => m.name === k)) ?? [];
  if (unknown.length > 0) throw new Error(`memory: unknown --only ${unknown.join(',')} (kinds: ${memoryKinds.map((k) => k.name).join(', ')})`);
  const kinds = memoryKinds.filter((k) => only === undefined || only.includes(k.name));
  const limit = openFileLimit();
  // Each client process needs one descriptor per connection plus a few dozen of its own.
  const perProcMax = limit === undefined || !Number.isFinite(limit) ? 25_000 : Math.max(100, limit - 200);
  const procs = o.clientProcs > 0 ? o.clientProcs : Math.max(2, Math.ceil(o.connections / perProcMax));
  console.log(
    `memory: ${fmtInt(o.connections)} idle logged-in connections per server, from ${procs} client processes of ` +
      `${fmtInt(Math.ceil(o.connections / procs))} (open-file limit ${limit === undefined ? 'unknown' : limit}; nothing raised)`,
  );
  if (limit !== undefined && o.connections + 100 > limit) {
    console.log(`warning: the server needs ${o.connections}+ descriptors but the limit is ${limit}`);
  }
  const results: MemoryResult[] = [];
  for (const k of kinds) {
    const why = k.unavailable();
    if (why !== undefined) {
      results.push({ ...empty(k.name, o.connections, procs), skipped: why });
      console.log(`${k.name}: skipped: ${why}`);
      continue;
    }
    const r = await measure(k, o, procs);
    results.push(r);
    console.log(
      r.ok
        ? `${k.name}: ${fmt(r.kibPerConnection, 2)} KiB per connection (logged in after ${fmt(r.connectS, 1)} s, server quiet ${fmt(r.quietS, 1)} s later` +
            `${r.forcedGc ? '' : `; ${r.gcNote ?? 'no forced GC'}`})`
        : `${k.name}: FAILED: ${r.error}`,
    );
  }

  console.log('');
  const mb = (kb: number | null): string => fmt(kb === null ? null : kb / 1024, 1);
  printTable(
    [
      'server',
      'conns',
      'KiB/conn',
      'KiB/conn no GC',
      'heap KiB/conn',
      'ext KiB/conn',
      'base RSS MB',
      'settled MB',
      'after GC MB',
      'peak MB',
      'login s',
      'srv CPU s',
      'note',
    ],
    results.map((r) => [
      r.kind,
      fmtInt(r.connections),
      fmt(r.kibPerConnection, 2),
      fmt(r.kibPerConnectionSettled, 2),
      fmt(r.heapKibPerConnection, 2),
      fmt(r.externalKibPerConnection, 2),
      mb(r.baselineRssKb),
      mb(r.settledRssKb),
      mb(r.afterGcRssKb),
      mb(r.peakRssKb),
      fmt(r.connectS, 1),
      fmt(r.serverCpuConnectS, 1),
      r.skipped !== undefined ? `skipped: ${r.skipped}` : !r.ok ? `FAILED: ${r.error ?? ''}` : r.forcedGc ? '' : (r.gcNote ?? 'no forced GC'),
    ]),
  );
  const parley = results.find((r) => r.kind === 'parley' && r.ok);
  const v = parley?.kibPerConnection ?? null;
  const target = { kibPerConnection: TARGET_PARLEY_KIB, value: v, pass: v === null ? null : v <= TARGET_PARLEY_KIB };
  console.log('');
  if (results.some((r) => r.kind === 'parley')) {
    console.log(`parley KiB per idle connection: ${fmt(v, 2)}  (target <= ${TARGET_PARLEY_KIB})  ${v === null ? 'n/a' : passMiss(v <= TARGET_PARLEY_KIB)}`);
  }
  const sio = results.find((r) => r.kind === 'socket.io' && r.ok)?.kibPerConnection;
  const bare = results.find((r) => r.kind === 'bare' && r.ok)?.kibPerConnection;
  if (v !== null && sio) console.log(`parley/socket.io memory per connection: ${(v / sio).toFixed(2)}x`);
  if (v !== null && bare) console.log(`parley/bare memory per connection:      ${(v / bare).toFixed(2)}x`);
  const pws = results.find((r) => r.kind === 'parley-ws' && r.ok)?.kibPerConnection ?? null;
  const bws = results.find((r) => r.kind === 'bare-ws' && r.ok)?.kibPerConnection ?? null;
  const wsRatio = pws !== null && bws ? round(pws / bws, 2) : null;
  const wsTarget = { ratio: TARGET_WS_VS_BARE_WS, value: wsRatio, pass: wsRatio === null ? null : wsRatio <= TARGET_WS_VS_BARE_WS };
  if (pws !== null || bws !== null) {
    console.log(
      `parley-ws/bare-ws memory per connection: ${wsRatio === null ? 'n/a' : `${wsRatio.toFixed(2)}x`}  (target <= ${TARGET_WS_VS_BARE_WS}x)  ` +
        `${wsRatio === null ? 'n/a' : passMiss(wsRatio <= TARGET_WS_VS_BARE_WS)}`,
    );
  }
  console.log(
    '(login s: from the first connect until every client was in its channel; parley and the bare servers send USERLIST and USERJOIN for #lobby, O(n^2) in all)',
  );

  const report: MemoryReport = {
    workload: 'memory',
    date: new Date().toISOString(),
    machine: machineInfo(),
    options: o,
    openFileLimit: limit === undefined || !Number.isFinite(limit) ? null : limit,
    clientProcs: procs,
    results,
    target,
    wsTarget,
  };
  writeResults('memory', report, o.out);
  return report;
}
