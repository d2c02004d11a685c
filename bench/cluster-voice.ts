// Cross-node voice: K 1:1 calls whose parties sit on different nodes (2 `parley serve --redis`
// processes and a redis-server), beside K calls on a single node, in one run. The load
// generator is dist/bench/voice-load.js (the B party of each call connects to the second
// node with --port-b). Node a (and the single node) on CPU 0, node b and the load generator on
// CPU 1 (--node-b-cpu), redis-server unpinned.
// Voice never goes through Redis: each frame crosses the node link once (docs/cluster.md).
// With --runs N the topologies alternate run by run; the run with the median p99 is reported.
//
// Target (issue 9): cluster loss <= 0.1 %, cluster p99 <= 2 x single p99 + 1 ms.
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import { type ParsedArgs, numFlag, strFlag } from './args.js';
import { startRedis } from './redis-child.js';
import { BenchChild, canPin } from './children.js';
import { waitForQuietMachine } from './machine-load.js';
import { DIST_DIR, ROOT_DIR } from './servers.js';
import { fmt, passMiss } from './table.js';

export interface ClusterVoiceOptions {
  calls: number;
  /** Frames/s per party. */
  rate: number;
  payload: number;
  warmupS: number;
  durationS: number;
  drainS: number;
  runs: number;
  quietWaitS: number;
  redisServer: string;
  /** CPU of the second node (the first is on CPU 0, the load generator on CPU 1), as if on a machine of its own; -1: not pinned. Default 1. */
  nodeBCpu: number;
}

export const clusterVoiceDefaults: ClusterVoiceOptions = {
  calls: 100,
  rate: 50,
  payload: 100,
  warmupS: 1,
  durationS: 3,
  drainS: 0.5,
  runs: 3,
  quietWaitS: 20,
  redisServer: 'redis-server',
  nodeBCpu: 1,
};

export function clusterVoiceOptionsFromArgs(args: ParsedArgs): ClusterVoiceOptions {
  const d = clusterVoiceDefaults;
  return {
    calls: numFlag(args, 'calls', d.calls, { min: 1 }),
    rate: numFlag(args, 'frame-rate', d.rate, { min: 1, int: false }),
    payload: numFlag(args, 'payload', d.payload, { min: 1 }),
    warmupS: numFlag(args, 'voice-warmup', d.warmupS, { int: false }),
    durationS: numFlag(args, 'voice-duration', d.durationS, { min: 0.5, int: false }),
    drainS: numFlag(args, 'drain', d.drainS, { int: false }),
    runs: numFlag(args, 'runs', d.runs, { min: 1 }),
    quietWaitS: numFlag(args, 'quiet-wait', d.quietWaitS, { int: false }),
    redisServer: strFlag(args, 'redis-server') ?? process.env.REDIS_SERVER ?? d.redisServer,
    nodeBCpu: numFlag(args, 'node-b-cpu', d.nodeBCpu, { min: -1 }),
  };
}

interface Phase {
  sent: number;
  received: number;
  lossPct: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
  maxMs: number | null;
}

export interface ClusterVoiceRun {
  topology: 'single node' | '2 nodes';
  ok: boolean;
  error?: string;
  phase?: Phase;
}

export interface ClusterVoiceReport {
  workload: 'cluster-voice';
  options: ClusterVoiceOptions;
  runs: ClusterVoiceRun[];
  single?: ClusterVoiceRun;
  cluster?: ClusterVoiceRun;
  targets: { name: string; value: number | null; target: string; pass: boolean | null }[];
}

async function startNode(redisUrl: string | undefined, nodeId: string, cpu: number | undefined): Promise<{ child: BenchChild; port: number }> {
  const args = [
    path.join(DIST_DIR, 'cli', 'main.js'),
    'serve',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--plugins',
    'ping,channels,voip',
    '--rate-limit',
    '0',
    '--max-per-ip',
    '0',
    '--log-level',
    'warn',
  ];
  if (redisUrl !== undefined) args.push('--redis', redisUrl, '--redis-prefix', 'bench', '--node-id', nodeId);
  const child = new BenchChild(`parley-${nodeId}`, process.execPath, args, { ...(cpu === undefined ? {} : { cpu }), cwd: ROOT_DIR });
  try {
    const { m } = await child.waitForLine(/listening on [\d.]+:(\d+)/, 20_000, `parley ${nodeId} to listen`);
    return { child, port: Number(m![1]) };
  } catch (err) {
    await child.kill();
    throw err;
  }
}

async function runOnce(o: ClusterVoiceOptions, clustered: boolean): Promise<ClusterVoiceRun> {
  const topology = clustered ? '2 nodes' : 'single node';
  if (o.quietWaitS > 0) await waitForQuietMachine(o.quietWaitS);
  const children: BenchChild[] = [];
  try {
    let ports: number[];
    if (clustered) {
      const redis = await startRedis(o.redisServer);
      children.push(redis.child);
      const a = await startNode(redis.url, 'a', 0);
      children.push(a.child);
      const b = await startNode(redis.url, 'b', o.nodeBCpu < 0 ? undefined : o.nodeBCpu);
      children.push(b.child);
      ports = [a.port, b.port];
    } else {
      const a = await startNode(undefined, 'single', 0);
      children.push(a.child);
      ports = [a.port];
    }
    const setupTimeoutS = 30 + o.calls / 20;
    const load = new BenchChild(
      'voice-load',
      process.execPath,
      [
        path.join(DIST_DIR, 'bench', 'voice-load.js'),
        '--mode',
        'parley',
        '--port',
        String(ports[0]),
        ...(clustered ? ['--port-b', String(ports[1])] : []),
        '--calls',
        String(o.calls),
        '--rates',
        String(o.rate),
        '--payload',
        String(o.payload),
        '--warmup',
        String(o.warmupS),
        '--duration',
        String(o.durationS),
        '--drain',
        String(o.drainS),
        '--setup-timeout',
        String(setupTimeoutS),
        '--control-stdin',
      ],
      { cpu: 1, cwd: ROOT_DIR },
    );
    children.push(load);
    const totalS = o.warmupS + o.durationS + o.drainS;
    const resultP = load.waitForLine((l) => l.startsWith('{'), (setupTimeoutS + totalS + 30) * 1000, 'the result line');
    resultP.catch(() => undefined);
    const ready = await Promise.race([load.waitForLine((l) => l.startsWith('READY'), (setupTimeoutS + 10) * 1000, 'READY'), resultP]);
    if (ready.line.startsWith('{')) throw new Error(`load generator failed before READY: ${ready.line}`);
    load.send('GO\n');
    const { line } = await resultP;
    load.send('END\n');
    await load.waitOrKill(5000);
    const r = JSON.parse(line) as { error?: string; phases: Phase[]; talksEnded: number };
    if (r.error !== undefined) throw new Error(r.error);
    const phase = r.phases[0];
    if (phase === undefined) throw new Error('no measured phase');
    return { topology, ok: r.talksEnded === 0, ...(r.talksEnded > 0 ? { error: `${r.talksEnded} talks ended` } : {}), phase };
  } catch (err) {
    return { topology, ok: false, error: err instanceof Error ? err.message : String(err) };
  } finally {
    for (const c of children.reverse()) await c.kill();
  }
}

function median(runs: ClusterVoiceRun[]): ClusterVoiceRun | undefined {
  const ok = runs.filter((r) => r.ok && r.phase?.p99Ms !== null && r.phase !== undefined);
  if (ok.length === 0) return runs[0];
  ok.sort((a, b) => a.phase!.p99Ms! - b.phase!.p99Ms!);
  return ok[Math.floor((ok.length - 1) / 2)];
}

export async function runClusterVoice(o: ClusterVoiceOptions): Promise<ClusterVoiceReport> {
  const redisOk = await new Promise<boolean>((resolve) => {
    const p = spawn(o.redisServer, ['--version'], { stdio: 'ignore' });
    p.once('error', () => resolve(false));
    p.once('exit', (code) => resolve(code === 0));
  });
  const report: ClusterVoiceReport = { workload: 'cluster-voice', options: o, runs: [], targets: [] };
  if (!redisOk) {
    console.log(`cluster-voice: skipped: cannot run ${o.redisServer} (apt-get install redis-server)`);
    return report;
  }
  console.log(
    `cluster-voice: ${o.calls} 1:1 calls at ${o.rate} frames/s per party, ${o.payload} B payload; single node vs parties on 2 nodes ` +
      `(+ redis-server); ${o.warmupS} s warm-up, ${o.durationS} s measured, ${o.runs} run(s) each${canPin() ? '; nodes on CPU 0, load on CPU 1' : '; not pinned'}`,
  );
  for (let i = 0; i < o.runs; i++) {
    for (const clustered of [false, true]) {
      const run = await runOnce(o, clustered);
      report.runs.push(run);
      const p = run.phase;
      console.log(
        p
          ? `${run.topology} run ${i + 1}: sent ${p.sent}, received ${p.received}, loss ${fmt(p.lossPct, 3)} %, p50 ${fmt(p.p50Ms, 2)} ms, p99 ${fmt(p.p99Ms, 2)} ms, max ${fmt(p.maxMs, 2)} ms${run.ok ? '' : ` (${run.error})`}`
          : `${run.topology} run ${i + 1}: FAILED: ${run.error}`,
      );
    }
  }
  const single = median(report.runs.filter((r) => r.topology === 'single node'));
  const cluster = median(report.runs.filter((r) => r.topology === '2 nodes'));
  report.single = single;
  report.cluster = cluster;
  const loss = cluster?.phase?.lossPct ?? null;
  const p99c = cluster?.phase?.p99Ms ?? null;
  const p99s = single?.phase?.p99Ms ?? null;
  const bound = p99s === null ? null : 2 * p99s + 1;
  report.targets.push(
    { name: 'cross-node loss (%)', value: loss, target: '<= 0.1', pass: loss === null ? null : loss <= 0.1 },
    {
      name: 'cross-node p99 (ms)',
      value: p99c,
      target: `<= 2 x single (${fmt(p99s, 2)}) + 1 = ${fmt(bound, 2)}`,
      pass: p99c === null || bound === null ? null : p99c <= bound,
    },
  );
  console.log(
    `\nmedian runs by p99: single node p50 ${fmt(single?.phase?.p50Ms ?? null, 2)} / p99 ${fmt(p99s, 2)} ms, loss ${fmt(single?.phase?.lossPct ?? null, 3)} %; ` +
      `2 nodes p50 ${fmt(cluster?.phase?.p50Ms ?? null, 2)} / p99 ${fmt(p99c, 2)} ms, loss ${fmt(loss, 3)} %`,
  );
  for (const tg of report.targets) console.log(`target ${tg.name}: ${fmt(tg.value, 3)} (${tg.target}) ${tg.pass === null ? '-' : passMiss(tg.pass)}`);
  return report;
}
