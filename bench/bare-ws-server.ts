// The practical lower bound for chat fan-out over WebSocket in Node: the protocol subset
// of bare-fanout-server (bare-protocol.ts) on a bare `ws` WebSocketServer (any path,
// compression off), in text messages, one text message per socket per event-loop turn.
//
// Usage: node dist/bench/bare-ws-server.js --port 0 [--host 127.0.0.1] [--parent-stdin]
// Prints `LISTENING <port>` on stdout once bound. With --parent-stdin it exits when its
// stdin closes (so it never outlives the benchmark that spawned it).
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import { boolFlag, numFlag, parseArgs, strFlag } from './args.js';
import { bareConnection } from './bare-protocol.js';
import { quitWithParent } from './parent-stdin.js';

const LF = Buffer.from('\n');

function onConnection(socket: WebSocket): void {
  const c = bareConnection({ write: (chunk) => socket.send(chunk, { binary: false }), close: () => socket.close() });
  socket.on('message', (chunk: Buffer, isBinary: boolean) => {
    if (isBinary) return;
    c.push(chunk);
    if (chunk[chunk.length - 1] !== 10) c.push(LF); // a message's end ends its line
  });
  socket.on('error', () => {
    /* ECONNRESET etc.: 'close' follows */
  });
  socket.on('close', () => c.closed());
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const port = numFlag(args, 'port', 0);
  const host = strFlag(args, 'host', '127.0.0.1');
  const server = new WebSocketServer({ port, host, backlog: 4096, perMessageDeflate: false, clientTracking: false, maxPayload: 1024 * 1024 }, () => {
    const addr = server.address() as AddressInfo;
    process.stdout.write(`LISTENING ${addr.port}\n`);
  });
  server.on('connection', onConnection);
  server.on('error', (err) => {
    process.stderr.write(`bare-ws-server: ${err.message}\n`);
    process.exit(1);
  });
  quitWithParent(boolFlag(args, 'parent-stdin'));
}

main();
