// Benchmark dispatcher: `node dist/bench/run.js [workload|all] [flags]`.
// Each workload lives in its own module and registers itself below.
//
//   fanout  chat fan-out, parley vs a bare net server (bench/fanout.ts)
//           flags: --only bare|parley --clients 200 --senders 20 --messages 500
//                  --payload 100 --rate 0 --runs 1 --timeout 60 --window 50
//                  --batch 50 --sample-every 10 --warmup 100 --out FILE
import { parseArgs, type ParsedArgs } from './args.js';
import { installCleanupHooks, killAllChildren } from './children.js';
import { fanoutOptionsFromArgs, runFanout } from './fanout.js';

interface Workload {
  readonly description: string;
  run(args: ParsedArgs): Promise<unknown>;
}

const workloads: Record<string, Workload> = {
  fanout: {
    description: 'chat fan-out: deliveries/s, latency and server CPU per delivery, parley vs bare',
    run: (args) => runFanout(fanoutOptionsFromArgs(args)),
  },
};

async function main(): Promise<number> {
  installCleanupHooks();
  const args = parseArgs(process.argv.slice(2));
  if (args.flags.has('help')) {
    console.log('usage: node dist/bench/run.js [all|' + Object.keys(workloads).join('|') + '] [flags]');
    for (const [name, w] of Object.entries(workloads)) console.log(`  ${name.padEnd(8)} ${w.description}`);
    return 0;
  }
  const which = args.positional[0] ?? 'all';
  const selected = which === 'all' ? Object.keys(workloads) : [which];
  for (const name of selected) {
    const w = workloads[name];
    if (w === undefined) {
      console.error(`unknown workload '${name}' (expected all or ${Object.keys(workloads).join(', ')})`);
      return 2;
    }
    if (selected.length > 1) console.log(`\n=== ${name} ===`);
    await w.run(args);
  }
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
