// The cluster benchmark: the chat fan-out workload (200 clients in one channel, 20
// senders, 100-byte messages) with the clients split round robin over 2 parley nodes and
// one redis-server, beside one parley node, and beside socket.io 4 with
// @socket.io/redis-adapter on 2 nodes, in one run. Every server process (nodes and Redis)
// is pinned to CPU 0 and the load generator to CPU 1 (when taskset exists), so each
// setup gets the same one core for its servers. Server CPU is utime+stime from /proc of
// every node and redis-server over the load phase. The parley cluster has a third node
// whose one client sits in another channel: its bus counters prove it gets none of the
// benchmark channel's traffic.
import * as net from 'node:net';
import * as path from 'node:path';
import type { ParsedArgs } from './args.js';
import { startRedis } from './redis-child.js';
import { BenchChild } from './children.js';
import { fanoutLoadFlags, fanoutOptionsFromArgs, type FanoutOptions } from './fanout.js';
import { readCpuMicros } from './proc-stats.js';
import { DIST_DIR, ROOT_DIR } from './servers.js';
import { fmt, fmtInt, machineInfo, passMiss, printTable, writeResults } from './table.js';
import type { ClusterStats } from '../core/cluster/types.js';

const TARGET_VS_SOCKETIO = 10; // cluster deliveries/s >= 10 x socket.io + redis-adapter
const TARGET_CPU_VS_SINGLE = 2; // cluster CPU per delivery (nodes + Redis) <= 2 x one node
const SERVER_CPU = 0;
const LOAD_CPU = 1;

export interface ClusterBenchOptions {
  fanout: FanoutOptions;
  /** Which setups to run (`--setups single,cluster,socket.io`); default all three, as the targets need. */
  setups: string[];
}

export function clusterOptionsFromArgs(args: ParsedArgs): ClusterBenchOptions {
  const fanout = fanoutOptionsFromArgs(args);
  // socket.io with the Redis adapter is slow: give its load phase room.
  if (!args.flags.has('timeout')) fanout.timeoutS = 180;
  const setups = (typeof args.flags.get('setups') === 'string' ? (args.flags.get('setups') as string).split(',') : SETUP_KEYS).map((x) => x.trim());
  for (const k of setups) if (!SETUP_KEYS.includes(k)) throw new Error(`--setups: expected some of ${SETUP_KEYS.join(',')}`);
  return { fanout, setups };
}

export interface SetupRun {
  setup: string;
  ok: boolean;
  error?: string;
  deliveries: number;
  expected: number;
  deliveriesPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** utime+stime per server process over the load phase, seconds. */
  cpuS: Record<string, number>;
  serverCpuS: number;
  serverCpuUsPerDelivery: number | null;
  /** Parley cluster only: bus counters over the load phase. */
  bus?: {
    chatMessages: number;
    publishes: number;
    publishesPerChatMessage: number;
    publishedBytesPerChatMessage: number;
    receivedPerNode: Record<string, number>;
    idleNode: { received: number; channelReceived: number; receivedBytes: number };
  };
}

export interface ClusterReport {
  workload: 'cluster';
  date: string;
  machine: ReturnType<typeof machineInfo>;
  options: ClusterBenchOptions;
  runs: SetupRun[];
  targets: {
    vsSocketio: { ratio: number | null; target: number; pass: boolean | null };
    cpuVsSingle: { ratio: number | null; target: number; pass: boolean | null };
    onePublishPerMessage: { value: number | null; pass: boolean | null };
    idleNodeGetsNothing: { value: number | null; pass: boolean | null };
  };
}

interface LoadResultLine {
  deliveries: number;
  expected: number;
  deliveriesPerSec: number;
  p50Ms: number | null;
  p99Ms: number | null;
  complete: boolean;
  error?: string;
}

async function startNode(label: string, script: string, args: string[]): Promise<{ child: BenchChild; port: number }> {
  const child = new BenchChild(label, process.execPath, [path.join(DIST_DIR, 'bench', script), '--port', '0', '--parent-stdin', ...args], {
    cpu: SERVER_CPU,
    cwd: ROOT_DIR,
  });
  const { m } = await child.waitForLine(/^LISTENING (\d+)/, 20_000, `${label} to listen`);
  return { child, port: Number(m![1]) };
}

async function stats(node: BenchChild): Promise<ClusterStats> {
  const p = node.waitForLine((l) => l.startsWith('STATS '), 5000, 'STATS');
  node.send('STATS\n');
  return JSON.parse((await p).line.slice(6)) as ClusterStats;
}

/** A client of the idle node: connected, in a channel of its own. */
async function idleClient(port: number): Promise<net.Socket> {
  const s = net.connect({ port, host: '127.0.0.1' });
  let got = '';
  await new Promise<void>((resolve, reject) => {
    s.on('data', (d: Buffer) => {
      got += d.toString();
      if (got.includes('USERLIST #quiet')) resolve();
    });
    s.once('error', reject);
    s.once('connect', () => s.write('CONNECT: "idle" "bench" 1.1.0\nJOIN: #quiet\n'));
  });
  return s;
}

interface Setup {
  key: string;
  name: string;
  loadScript: string;
  /** Starts the servers; returns the processes to measure and the client ports. */
  start(): Promise<{ procs: { label: string; child: BenchChild }[]; ports: number[]; nodes?: BenchChild[]; idle?: BenchChild; cleanup?: () => void }>;
}

const SETUP_KEYS = ['single', 'cluster', 'socket.io'];

const setups: Setup[] = [
  {
    key: 'single',
    name: 'parley, 1 node',
    loadScript: 'fanout-load.js',
    async start() {
      const n = await startNode('parley', 'parley-node.js', []);
      return { procs: [{ label: 'node', child: n.child }], ports: [n.port] };
    },
  },
  {
    key: 'cluster',
    name: 'parley, 2 nodes + Redis',
    loadScript: 'fanout-load.js',
    async start() {
      const redis = await startRedis(undefined, SERVER_CPU);
      const prefix = `bench${process.pid}`;
      const nodes = [];
      for (const id of ['n0', 'n1', 'idle'])
        nodes.push(await startNode(`parley ${id}`, 'parley-node.js', ['--redis', redis.url, '--prefix', prefix, '--node-id', id]));
      const idle = await idleClient(nodes[2]!.port);
      return {
        procs: [{ label: 'redis', child: redis.child }, ...nodes.map((n, i) => ({ label: ['n0', 'n1', 'idle'][i]!, child: n.child }))],
        ports: [nodes[0]!.port, nodes[1]!.port],
        nodes: [nodes[0]!.child, nodes[1]!.child],
        idle: nodes[2]!.child,
        cleanup: () => idle.destroy(),
      };
    },
  },
  {
    key: 'socket.io',
    name: 'socket.io 4, 2 nodes + redis-adapter',
    loadScript: 'socketio-load.js',
    async start() {
      const redis = await startRedis(undefined, SERVER_CPU);
      const nodes = [];
      for (const id of ['s0', 's1']) nodes.push(await startNode(`socket.io ${id}`, 'socketio-cluster-server.js', ['--redis', redis.url]));
      return { procs: [{ label: 'redis', child: redis.child }, ...nodes.map((n, i) => ({ label: `s${i}`, child: n.child }))], ports: nodes.map((n) => n.port) };
    },
  },
];

async function runSetup(s: Setup, o: FanoutOptions): Promise<SetupRun> {
  const started = await s.start();
  let load: BenchChild | undefined;
  try {
    const connectTimeoutS = 30 + o.clients / 100;
    load = new BenchChild(
      'load',
      process.execPath,
      [path.join(DIST_DIR, 'bench', s.loadScript), '--ports', started.ports.join(','), ...fanoutLoadFlags(o, connectTimeoutS)],
      { cpu: LOAD_CPU, cwd: ROOT_DIR },
    );
    const resultP = load.waitForLine((l) => l.startsWith('{'), (connectTimeoutS + 2 * o.timeoutS + 30) * 1000, 'the result line');
    resultP.catch(() => undefined);
    const readyP = load.waitForLine((l) => l === 'READY', (connectTimeoutS + 10 + o.timeoutS) * 1000, 'READY');
    readyP.catch(() => undefined);
    const first = await Promise.race([readyP.then(() => null), resultP]);
    if (first !== null) throw new Error(`load generator failed before READY: ${first.line}`);
    const statsBefore = started.nodes ? await Promise.all([...started.nodes, started.idle!].map(stats)) : undefined;
    const cpu0 = started.procs.map((p) => readCpuMicros(p.child.pid) ?? Number.NaN);
    load.send('GO\n');
    const { line } = await resultP;
    const cpu1 = started.procs.map((p) => readCpuMicros(p.child.pid) ?? Number.NaN);
    const statsAfter = started.nodes ? await Promise.all([...started.nodes, started.idle!].map(stats)) : undefined;
    load.send('END\n');
    await load.waitOrKill(5000);
    const r = JSON.parse(line) as LoadResultLine;
    for (const p of started.procs) if (!p.child.alive) console.log(`${s.name}: ${p.label} exited during the run:\n${p.child.recentOutput()}`);
    const cpuS: Record<string, number> = {};
    for (const [i, p] of started.procs.entries()) cpuS[p.label] = (cpu1[i]! - cpu0[i]!) / 1e6;
    const serverCpuS = Object.values(cpuS).reduce((a, b) => a + b, 0);
    const run: SetupRun = {
      setup: s.name,
      ok: r.complete && r.error === undefined,
      ...(r.error !== undefined ? { error: r.error } : !r.complete ? { error: 'incomplete' } : {}),
      deliveries: r.deliveries,
      expected: r.expected,
      deliveriesPerSec: r.deliveriesPerSec,
      p50Ms: r.p50Ms,
      p99Ms: r.p99Ms,
      cpuS,
      serverCpuS,
      serverCpuUsPerDelivery: r.deliveries > 0 ? (serverCpuS * 1e6) / r.deliveries : null,
    };
    if (statsBefore && statsAfter) {
      const d = (i: number, k: keyof ClusterStats): number => statsAfter[i]![k] - statsBefore[i]![k];
      const chatMessages = o.senders * o.messages;
      const publishes = d(0, 'published') + d(1, 'published');
      const bytes = d(0, 'publishedBytes') + d(1, 'publishedBytes');
      run.bus = {
        chatMessages,
        publishes,
        publishesPerChatMessage: publishes / chatMessages,
        publishedBytesPerChatMessage: bytes / chatMessages,
        receivedPerNode: { n0: d(0, 'received'), n1: d(1, 'received') },
        idleNode: { received: d(2, 'received'), channelReceived: d(2, 'channelReceived'), receivedBytes: d(2, 'receivedBytes') },
      };
    }
    return run;
  } finally {
    if (load) await load.kill();
    started.cleanup?.();
    for (const p of [...started.procs].reverse()) await p.child.kill();
  }
}

export async function runCluster(o: ClusterBenchOptions): Promise<ClusterReport> {
  const f = o.fanout;
  console.log(
    `cluster fan-out: ${f.clients} clients in one channel, ${f.senders} senders x ${f.messages} messages of ${f.payload} bytes, window ${f.window}; servers pinned to CPU ${SERVER_CPU}, load generator to CPU ${LOAD_CPU}`,
  );
  const runs: SetupRun[] = [];
  for (const s of setups) {
    if (!o.setups.includes(s.key)) continue;
    try {
      runs.push(await runSetup(s, f));
    } catch (err) {
      runs.push({
        setup: s.name,
        ok: false,
        error: (err as Error).message.split('\n')[0],
        deliveries: 0,
        expected: 0,
        deliveriesPerSec: 0,
        p50Ms: null,
        p99Ms: null,
        cpuS: {},
        serverCpuS: 0,
        serverCpuUsPerDelivery: null,
      });
    }
  }
  printTable(
    ['setup', 'deliveries/s', 'p50 ms', 'p99 ms', 'srv CPU µs/deliv', 'CPU s per process', 'note'],
    runs.map((r) => [
      r.setup,
      fmtInt(r.deliveriesPerSec),
      fmt(r.p50Ms, 2),
      fmt(r.p99Ms, 2),
      fmt(r.serverCpuUsPerDelivery, 3),
      Object.entries(r.cpuS)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', '),
      r.ok ? '' : `FAILED: ${r.error ?? ''} (${fmtInt(r.deliveries)}/${fmtInt(r.expected)})`,
    ]),
  );
  const none: SetupRun = {
    setup: '',
    ok: false,
    deliveries: 0,
    expected: 0,
    deliveriesPerSec: 0,
    p50Ms: null,
    p99Ms: null,
    cpuS: {},
    serverCpuS: 0,
    serverCpuUsPerDelivery: null,
  };
  const find = (name: string): SetupRun => runs.find((r) => r.setup === name) ?? none;
  const [single, cluster, sio] = [find(setups[0]!.name), find(setups[1]!.name), find(setups[2]!.name)];
  const ratio = (a: number | null, b: number | null, ok: boolean): number | null => (ok && a !== null && b !== null && b > 0 ? a / b : null);
  const vs = ratio(cluster.deliveriesPerSec, sio.deliveriesPerSec, cluster.ok && sio.ok);
  const cpu = ratio(cluster.serverCpuUsPerDelivery, single.serverCpuUsPerDelivery, cluster.ok && single.ok);
  const bus = cluster.bus;
  const report: ClusterReport = {
    workload: 'cluster',
    date: new Date().toISOString(),
    machine: machineInfo(),
    options: o,
    runs,
    targets: {
      vsSocketio: { ratio: vs, target: TARGET_VS_SOCKETIO, pass: vs === null ? null : vs >= TARGET_VS_SOCKETIO },
      cpuVsSingle: { ratio: cpu, target: TARGET_CPU_VS_SINGLE, pass: cpu === null ? null : cpu <= TARGET_CPU_VS_SINGLE },
      onePublishPerMessage: { value: bus?.publishesPerChatMessage ?? null, pass: bus ? bus.publishes === bus.chatMessages : null },
      idleNodeGetsNothing: {
        value: bus?.idleNode.channelReceived ?? null,
        pass: bus ? bus.idleNode.channelReceived === 0 && bus.idleNode.received === 0 : null,
      },
    },
  };
  if (bus) {
    console.log(
      `bus (parley cluster): ${fmtInt(bus.publishes)} publishes for ${fmtInt(bus.chatMessages)} chat messages = ${fmt(bus.publishesPerChatMessage, 3)} per message, ` +
        `${fmt(bus.publishedBytesPerChatMessage, 1)} bytes per message; received n0 ${fmtInt(bus.receivedPerNode.n0)}, n1 ${fmtInt(bus.receivedPerNode.n1)}; ` +
        `node with no member in the channel: ${bus.idleNode.received} bus messages received (${bus.idleNode.channelReceived} of channel traffic, ${bus.idleNode.receivedBytes} bytes)`,
    );
  }
  const t = report.targets;
  const p = (x: boolean | null): string => (x === null ? 'n/a' : passMiss(x));
  console.log(`cluster deliveries/s vs socket.io + redis-adapter: ${fmt(t.vsSocketio.ratio, 1)}x (target >= ${TARGET_VS_SOCKETIO}x) ${p(t.vsSocketio.pass)}`);
  console.log(
    `cluster CPU per delivery (nodes + Redis) vs one node: ${fmt(t.cpuVsSingle.ratio, 2)}x (target <= ${TARGET_CPU_VS_SINGLE}x) ${p(t.cpuVsSingle.pass)}`,
  );
  console.log(`bus publishes per chat message: ${fmt(t.onePublishPerMessage.value, 3)} (target exactly 1) ${p(t.onePublishPerMessage.pass)}`);
  console.log(`channel traffic received by the node with no member: ${t.idleNodeGetsNothing.value ?? '-'} (target 0) ${p(t.idleNodeGetsNothing.pass)}`);
  if (f.out !== '') writeResults('cluster', report, f.out);
  return report;
}
