// The practical lower bound for chat fan-out in Node: a bare `net` server that speaks
// just enough of the parley protocol for the fan-out benchmark (bare-protocol.ts: the
// protocol subset, one formatted Buffer per MSG, writes batched once per turn).
//
// Usage: node dist/bench/bare-fanout-server.js --port 0 [--host 127.0.0.1] [--parent-stdin]
// Prints `LISTENING <port>` on stdout once bound. With --parent-stdin it exits when its
// stdin closes (so it never outlives the benchmark that spawned it).
import * as net from 'node:net';
import { boolFlag, numFlag, parseArgs, strFlag } from './args.js';
import { bareConnection } from './bare-protocol.js';
import { quitWithParent } from './parent-stdin.js';

function onConnection(socket: net.Socket): void {
  socket.setNoDelay(true);
  const c = bareConnection({ write: (chunk) => socket.write(chunk), close: () => socket.end() });
  socket.on('data', (chunk: Buffer) => c.push(chunk));
  socket.on('error', () => {
    /* ECONNRESET etc.: 'close' follows */
  });
  socket.on('close', () => c.closed());
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const port = numFlag(args, 'port', 0);
  const host = strFlag(args, 'host', '127.0.0.1');
  const server = net.createServer({ noDelay: true }, onConnection);
  server.on('error', (err) => {
    process.stderr.write(`bare-fanout-server: ${err.message}\n`);
    process.exit(1);
  });
  server.listen({ port, host, backlog: 4096 }, () => {
    const addr = server.address() as net.AddressInfo;
    process.stdout.write(`LISTENING ${addr.port}\n`);
  });
  quitWithParent(boolFlag(args, 'parent-stdin'));
}

main();
