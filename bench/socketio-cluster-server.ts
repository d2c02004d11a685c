// socket.io 4 as a Node developer scales it: the chat room of socketio-server.ts with
// @socket.io/redis-adapter (over ioredis; node-redis v5 crashed the node with an
// unhandled command TimeoutError under this load), one process per node.
//
//   node dist/bench/socketio-cluster-server.js --port 0 --redis URL [--room bench] [--parent-stdin]
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { parseArgs, numFlag, strFlag, boolFlag } from './args.js';
import { quitWithParent } from './parent-stdin.js';

const args = parseArgs(process.argv.slice(2));
const room = strFlag(args, 'room', 'bench');

async function main(): Promise<void> {
  const pub = new Redis(strFlag(args, 'redis', 'redis://127.0.0.1:6379'));
  const sub = pub.duplicate();
  for (const c of [pub, sub]) c.on('error', (err: Error) => process.stderr.write(`socketio-cluster-server: redis: ${err.message}\n`));
  const httpServer = http.createServer();
  const io = new Server(httpServer, { transports: ['websocket'], serveClient: false, adapter: createAdapter(pub, sub) });
  io.on('connection', (socket) => {
    void socket.join(room);
    socket.emit('joined', room);
    socket.on('msg', (payload: unknown) => {
      socket.to(room).emit('msg', payload);
    });
  });
  httpServer.listen({ port: numFlag(args, 'port', 0), host: '127.0.0.1', backlog: 4096 }, () => {
    process.stdout.write(`LISTENING ${(httpServer.address() as AddressInfo).port}\n`);
  });
}
process.on('unhandledRejection', (err) => process.stderr.write(`socketio-cluster-server: unhandled rejection: ${String(err)}\n`));
main().catch((err: unknown) => {
  process.stderr.write(`socketio-cluster-server: ${(err as Error).message}\n`);
  process.exit(1);
});
quitWithParent(boolFlag(args, 'parent-stdin'));
