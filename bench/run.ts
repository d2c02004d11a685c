// Benchmark dispatcher: `node dist/bench/run.js [workload|all] [flags]`.
// Each workload lives in its own module and registers itself below; `all` runs them in
// this order. See bench/README.md for the flags.
//
//   fanout    chat fan-out, bare net server vs parley (and socket.io in `all`) (bench/fanout.ts)
//   fanout-ws chat fan-out over WebSocket: parley vs a bare `ws` server vs socket.io 4 (200 clients)
//   voice     UDP voice relay, parley vs a bare dgram forwarder (bench/voice.ts)
//   socketio  fan-out ratios to socket.io, parley paced at 50,000 deliveries/s (bench/socketio.ts)
//   memory    memory per idle connection at 10,000 connections (bench/memory.ts)
//   cluster-voice  100 1:1 calls with parties on 2 nodes (+ redis-server) vs on one node (bench/cluster-voice.ts)
//   cluster   fan-out over 2 parley nodes + Redis vs 1 node vs socket.io + redis-adapter (bench/cluster.ts)
import { parseArgs, type ParsedArgs } from './args.js';
import { installCleanupHooks, killAllChildren } from './children.js';
import { fanoutOptionsFromArgs, runFanout, type FanoutReport } from './fanout.js';
import { runFanoutWs } from './fanout-ws.js';
import { voiceOptionsFromArgs, runVoice } from './voice.js';
import { socketioOptionsFromArgs, runSocketio } from './socketio.js';
import { memoryOptionsFromArgs, runMemory } from './memory.js';
import { clusterVoiceOptionsFromArgs, runClusterVoice } from './cluster-voice.js';
import { waitForQuietMachine } from './machine-load.js';
import { clusterOptionsFromArgs, runCluster } from './cluster.js';

interface Workload {
  readonly description: string;
  /** `done` holds the reports of the workloads that already ran in this invocation. */
  run(args: ParsedArgs, done: Map<string, unknown>): Promise<unknown>;
}

const workloads: Record<string, Workload> = {
  fanout: {
    description: 'chat fan-out: deliveries/s, latency and server CPU per delivery, bare vs parley (--kinds adds socket.io)',
    run: (args, done) => {
      const o = fanoutOptionsFromArgs(args);
      // In `all`, the table includes socket.io too; the socketio workload then reuses it.
      if (done.has('all') && o.only === undefined && o.kinds === undefined) o.kinds = ['bare', 'parley', 'socket.io'];
      return runFanout(o);
    },
  },
  'fanout-ws': {
    description: 'fan-out over WebSocket, 200 clients: parley (one port, /parley) vs a bare ws server vs socket.io 4 (websocket transport)',
    run: (args) => runFanoutWs(fanoutOptionsFromArgs(args), args),
  },
  voice: {
    description: 'UDP voice: K 1:1 calls at 50 frames/s per party, and saturation, parley vs a bare dgram forwarder',
    run: (args) => runVoice(voiceOptionsFromArgs(args)),
  },
  socketio: {
    description: 'fan-out against socket.io 4 (ratios), parley paced at 50,000 deliveries/s (p99)',
    run: (args, done) => runSocketio(socketioOptionsFromArgs(args), done.get('fanout') as FanoutReport | undefined),
  },
  memory: {
    description: 'memory per idle connection at 10,000 connections: parley vs socket.io vs bare net, parley-ws vs bare ws',
    run: (args) => runMemory(memoryOptionsFromArgs(args)),
  },
  'cluster-voice': {
    description: 'voice across nodes: 100 1:1 calls, parties on 2 nodes + redis-server, vs one node (loss, p50/p99)',
    run: (args) => runClusterVoice(clusterVoiceOptionsFromArgs(args)),
  },
  cluster: {
    description: 'fan-out over 2 parley nodes + Redis, beside 1 node and socket.io 4 + redis-adapter on 2 nodes: deliveries/s, CPU, bus traffic',
    run: (args) => runCluster(clusterOptionsFromArgs(args)),
  },
};

async function main(): Promise<number> {
  installCleanupHooks();
  const args = parseArgs(process.argv.slice(2));
  if (args.flags.has('help')) {
    console.log(`usage: node dist/bench/run.js [all|${Object.keys(workloads).join('|')}] [flags]`);
    for (const [name, w] of Object.entries(workloads)) console.log(`  ${name.padEnd(9)} ${w.description}`);
    console.log('flags: see bench/README.md');
    return 0;
  }
  const which = args.positional[0] ?? 'all';
  const selected = which === 'all' ? Object.keys(workloads) : [which];
  const done = new Map<string, unknown>();
  if (which === 'all') done.set('all', true);
  const t0 = Date.now();
  for (const name of selected) {
    const w = workloads[name];
    if (w === undefined) {
      console.error(`unknown workload '${name}' (expected all or ${Object.keys(workloads).join(', ')})`);
      return 2;
    }
    if (selected.length > 1) console.log(`\n=== ${name} ===`);
    // Another job on a shared machine (a build, tests) would end up in the numbers.
    const q = await waitForQuietMachine(30);
    if (q.otherCores !== null && q.otherCores >= 0.25) {
      console.log(`(the machine is busy: other processes use ${q.otherCores.toFixed(2)} cores; the numbers will be disturbed)`);
    }
    const t = Date.now();
    done.set(name, await w.run(args, done));
    if (selected.length > 1) console.log(`(${name}: ${((Date.now() - t) / 1000).toFixed(0)} s)`);
  }
  if (selected.length > 1) console.log(`\nall workloads: ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return 0;
}

main()
  .then(async (code) => {
    await killAllChildren();
    process.exit(code);
  })
  .catch(async (err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    await killAllChildren();
    process.exit(1);
  });
