// One parley node for the cluster benchmark: the library with `parley serve`'s benchmark
// settings (text plugins, no rate or per-IP limit, no default channel), optionally a node
// of a Redis cluster. Prints `LISTENING <port>`; on `STATS` (stdin) prints
// `STATS {cluster stats json}`, so that the bench reads the bus counters of the node.
//
//   node dist/bench/parley-node.js --port 0 [--redis URL --prefix P --node-id ID] [--parent-stdin]
import { builtinPlugins, createServer, redisCluster } from '../index.js';
import { parseArgs, numFlag, strFlag, boolFlag } from './args.js';
import { quitWithParent } from './parent-stdin.js';

const args = parseArgs(process.argv.slice(2));
const url = strFlag(args, 'redis');
const server = createServer({
  plugins: builtinPlugins(['ping', 'channels', 'im'], { channels: { defaultChannel: null } }),
  limits: { rateLimit: 0, maxConnectionsPerIp: 0, connectRatePerIp: 0 },
  logger: 'warn',
  ...(url ? { cluster: redisCluster({ url, prefix: strFlag(args, 'prefix', 'bench'), nodeId: strFlag(args, 'node-id', `n${process.pid}`) }) } : {}),
});
server.listen({ host: '127.0.0.1', port: numFlag(args, 'port', 0) }).then(
  ({ port }) => process.stdout.write(`LISTENING ${port}\n`),
  (err: unknown) => {
    process.stderr.write(`parley-node: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
let buf = '';
process.stdin.on('data', (d: Buffer) => {
  buf += d.toString();
  let i: number;
  while ((i = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    if (line === 'STATS') process.stdout.write(`STATS ${JSON.stringify(server.cluster.stats)}\n`);
  }
});
quitWithParent(boolFlag(args, 'parent-stdin'));
