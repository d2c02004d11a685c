// Load generator for the chat fan-out benchmark against the Socket.IO server
// (dist/bench/socketio-server.js): the same workload, flags, control protocol and result
// line as fanout-load.js, spoken with socket.io-client 4 over the websocket transport.
//
//   node dist/bench/socketio-load.js --port P [--host 127.0.0.1] [--clients 200] [--senders 20]
//     [--messages 500] [--payload 100] [--rate 0] [--timeout 60] [--window 50] [--batch 50]
//     [--sample-every 10] [--warmup 0] [--control-stdin] [--progress]
//
// Clients c0..cN-1 connect (one connection each: forceNew, no reconnection); the server puts
// each into the room and emits 'joined'. After the (unmeasured) warm-up it prints `READY` on
// stderr (with --control-stdin it waits for `GO` on stdin); senders c0..cS-1 then emit
// --messages 'msg' events whose payload is exactly --payload bytes and starts with
// `<send time µs> <sender>.<seq> `; every other member receives it. Open loop (--rate 0):
// every event-loop turn each sender emits up to --batch messages while it has fewer than
// --window outstanding (not yet received by an observer). Paced (--rate N): N deliveries/s
// in aggregate. Prints one JSON line on stdout, like fanout-load.js; with --control-stdin it
// then waits for `END` (or stdin closing) before disconnecting.
//
// The workload itself (flags, pacing, window, sampling, the result) is FanoutLoad in
// load-common.ts; this file is its socket.io transport.
import { io, type Socket } from 'socket.io-client';
import { FanoutLoad, FanoutClient, loadOptions } from './load-common.js';

const o = loadOptions('socketio-load');
const { port, host, connectTimeoutS } = o;

class Client extends FanoutClient {
  readonly socket: Socket;
  joined = false;

  constructor(idx: number) {
    super(idx, o);
    this.socket = io(`http://${host}:${o.ports[idx % o.ports.length] ?? port}`, {
      transports: ['websocket'],
      forceNew: true,
      reconnection: false,
      timeout: connectTimeoutS * 1000,
    });
    this.socket.on('joined', () => {
      if (this.joined) return;
      this.joined = true;
      load.joined();
    });
    this.socket.on('msg', (payload: string) => this.onMsg(payload));
    this.socket.on('connect_error', (err: Error) => load.finish(`${this.nick}: connect error: ${err.message}`));
    this.socket.on('disconnect', (reason: string) => load.finish(`${this.nick}: disconnected: ${reason}`));
  }

  private onMsg(payload: string): void {
    this.delivered++;
    if (this.sampleDue()) {
      const sp = payload.indexOf(' ');
      const sent = Number(payload.slice(0, sp));
      if (Number.isFinite(sent)) load.hist.recordUs(load.nowUs() - sent);
    }
    if (this.perSender !== null) {
      const sp = payload.indexOf(' ');
      const dot = payload.indexOf('.', sp);
      const k = Number(payload.slice(sp + 1, dot));
      if (k >= 0 && k < this.perSender.length) this.perSender[k]!++;
    }
    load.onDeliveries(this, 1, load.nowUs());
  }
}

function emitBatch(s: number, n: number, ts: number): void {
  const sock = load.clients[s]!.socket;
  for (let k = 0; k < n; k++) sock.emit('msg', load.nextPayload(s, ts));
}

const load: FanoutLoad<Client> = new FanoutLoad(o, {
  connect: (idx) => new Client(idx),
  sendBatch: emitBatch,
  close: (clients) => {
    for (const c of clients) {
      c.socket.off('disconnect');
      c.socket.disconnect();
    }
  },
  config: { client: 'socket.io-client' },
});
load.run();
