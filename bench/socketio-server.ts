// The Socket.IO 4 comparison server for the fan-out and memory benchmarks: the idiomatic
// chat room, websocket transport only.
//
//   io.on('connection'): socket.join(room), then emit 'joined' (so the client knows it is in)
//   'msg' (payload)   -> socket.to(room).emit('msg', payload): every other member
//
// Usage: node dist/bench/socketio-server.js --port 0 [--host 127.0.0.1] [--room bench]
//          [--parent-stdin]
// Prints `LISTENING <port>` on stdout once bound. With --parent-stdin it exits when its
// stdin closes (so it never outlives the benchmark that spawned it).
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server } from 'socket.io';
import { parseArgs, numFlag, strFlag, boolFlag } from './args.js';
import { quitWithParent } from './parent-stdin.js';

const args = parseArgs(process.argv.slice(2));
const port = numFlag(args, 'port', 0);
const host = strFlag(args, 'host', '127.0.0.1');
const room = strFlag(args, 'room', 'bench');

const httpServer = http.createServer();
const io = new Server(httpServer, { transports: ['websocket'], serveClient: false });

io.on('connection', (socket) => {
  void socket.join(room);
  socket.emit('joined', room);
  socket.on('msg', (payload: unknown) => {
    socket.to(room).emit('msg', payload);
  });
});

httpServer.on('error', (err) => {
  process.stderr.write(`socketio-server: ${err.message}\n`);
  process.exit(1);
});
httpServer.listen({ port, host, backlog: 4096 }, () => {
  process.stdout.write(`LISTENING ${(httpServer.address() as AddressInfo).port}\n`);
});

quitWithParent(boolFlag(args, 'parent-stdin'));
