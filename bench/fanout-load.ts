// Load generator for the chat fan-out benchmark. Drives any parley-protocol server over TCP.
//
//   node dist/bench/fanout-load.js --port P [--host 127.0.0.1] [--clients 200] [--senders 20]
//     [--messages 500] [--payload 100] [--rate 0] [--timeout 60] [--window 50] [--batch 50]
//     [--sample-every 10] [--warmup 0] [--channel #bench] [--control-stdin] [--progress]
//
// Connects clients c0..cN-1 (`CONNECT: "c0" "bench" 1.0.0`), each joins the channel and
// waits for its `JOINED`; other lines (parley's auto-join of #lobby, USERLIST, USERJOIN)
// are ignored and `PING: n` is answered with `PONG: n`. With --warmup W the senders first
// send W messages each, open loop and unmeasured, and wait for all their deliveries (JIT
// warm-up of both sides). Once everyone has joined (and warmed up) it prints
// `READY` on stderr (with --control-stdin it then waits for a `GO` line on stdin), and
// senders c0..cS-1 each send --messages `MSG #bench: <payload>` lines. The payload is
// exactly --payload bytes and starts with `<send time µs> <sender>.<seq> `, the time
// measured on the monotonic high-resolution clock relative to the start of sending,
// so receivers (all in this process) compute latency.
//
// Open loop (--rate 0): every event-loop turn each sender writes up to --batch lines in one
// write, as long as it has fewer than --window messages outstanding (sent but not yet
// received by a designated receiver, the last client) and its socket is not backed up.
// Paced (--rate N): N deliveries/s in aggregate, i.e. N/(clients-1) messages/s spread over
// the senders by a 1 ms timer (the window still applies).
//
// Receivers split lines with indexOf on the Buffers and count `MSG ` lines without
// decoding them; one delivery in --sample-every is decoded for its timestamp.
// Ends when every delivery arrived (each message goes to every member but its sender),
// or at --timeout seconds after the start of sending. Prints one JSON line on stdout:
// {deliveries, expected, elapsedS, deliveriesPerSec, p50Ms, p99Ms, maxMs, ...}.
// With --control-stdin it then waits for `END` (or stdin closing) before disconnecting.
//
// With --ws each client is one `ws` WebSocket to ws://host:port/parley instead of a TCP
// socket: a batch goes as one text message, and a sender whose bufferedAmount passes
// 256 KiB waits until it drains.
//
// The workload itself (flags, pacing, window, sampling, the result) is FanoutLoad in
// load-common.ts; this file is its transport: connecting, parsing lines, batched writes.
import * as net from 'node:net';
import { WebSocket } from 'ws';
import { boolFlag, strFlag } from './args.js';
import { LineSplitter } from './line-splitter.js';
import { FanoutLoad, FanoutClient, loadOptions } from './load-common.js';

const o = loadOptions('fanout-load');
const { port, host, rate } = o;
const channel = strFlag(o.cli.args, 'channel', '#bench');
const overWs = boolFlag(o.cli.args, 'ws');
/** --ws: a sender whose WebSocket holds more than this waits (ws has no 'drain'). */
const SEND_HIGH_WATER = 256 * 1024;

let recvUs = 0; // receive time of the chunk being parsed, µs since the start of sending

class Client extends FanoutClient {
  readonly socket: net.Socket | undefined;
  readonly ws: WebSocket | undefined;
  /** 0 connecting, 1 awaiting ACCEPT, 2 awaiting JOINED, 3 joined */
  phase = 0;
  private readonly splitter: LineSplitter;

  constructor(idx: number) {
    super(idx, o);
    this.splitter = new LineSplitter((buf, s, e) => this.onLine(buf, s, e));
    const target = { host, port: o.ports[idx % o.ports.length] ?? port };
    const opened = (): void => {
      this.phase = 1;
      this.send(`CONNECT: "${this.nick}" "bench" 1.0.0\n`);
    };
    const received = (chunk: Buffer): void => {
      recvUs = load.nowUs();
      const before = this.delivered;
      this.splitter.push(chunk);
      const got = this.delivered - before;
      if (got !== 0) load.onDeliveries(this, got, recvUs);
    };
    const failed = (err: Error): void => load.finish(`${this.nick}: socket error: ${err.message}`);
    const closed = (): void => load.finish(`${this.nick}: connection closed by the server`);
    if (overWs) {
      const ws = new WebSocket(`ws://${target.host}:${target.port}/parley`, { perMessageDeflate: false });
      this.ws = ws;
      ws.on('open', opened);
      ws.on('message', received);
      ws.on('error', failed);
      ws.on('close', closed);
    } else {
      const socket = net.connect({ ...target, noDelay: true });
      this.socket = socket;
      socket.on('connect', opened);
      socket.on('data', received);
      socket.on('error', failed);
      socket.on('close', closed);
    }
  }

  /** One text: a write on TCP, one text message on a WebSocket. */
  send(text: string): void {
    if (this.ws) this.ws.send(text);
    else this.socket!.write(text);
  }

  private onLine(buf: Buffer, s: number, e: number): void {
    // "MSG " — a delivery. Counted without decoding.
    if (buf[s] === 77 && buf[s + 1] === 83 && buf[s + 2] === 71 && buf[s + 3] === 32) {
      this.delivered++;
      if (this.sampleDue()) sampleLatency(buf, s, e);
      if (this.perSender !== null) countSender(this.perSender, buf, s, e);
      return;
    }
    this.onControlLine(buf.toString('utf8', s, e));
  }

  private onControlLine(line: string): void {
    if (line.startsWith('PING')) {
      const m = /^PING\s*:\s*(.*)$/.exec(line);
      this.send(`PONG: ${m ? m[1] : ''}\n`);
      return;
    }
    if (line.startsWith('ERROR') || line.startsWith('DISCONNECT')) {
      load.finish(`${this.nick}: server said: ${line}`);
      return;
    }
    if (this.phase === 1 && line.startsWith('ACCEPT')) {
      this.phase = 2;
      this.send(`JOIN: ${channel}\n`);
    } else if (this.phase === 2 && line.startsWith('JOINED')) {
      const m = /^JOINED\s*:\s*(\S+)/.exec(line);
      if (m && m[1]!.toLowerCase() === channel.toLowerCase()) {
        this.phase = 3;
        load.joined();
      }
    }
    // USERLIST, USERJOIN, JOINED #lobby, ...: ignored.
  }
}

/** Parses the send time at the start of the payload and records the latency. */
function sampleLatency(buf: Buffer, s: number, e: number): void {
  let i = s + 4;
  while (i < e && buf[i] !== 58) i++; // ':' ends the arguments
  i++;
  if (i < e && buf[i] === 32) i++;
  let v = 0;
  let digits = 0;
  while (i < e) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
    i++;
    digits++;
  }
  if (digits > 0) load.hist.recordUs(recvUs - v);
}

/** `MSG c<k> ...`: counts a delivery from sender k. */
function countSender(counts: Int32Array, buf: Buffer, s: number, e: number): void {
  let i = s + 4;
  if (buf[i] !== 99) return; // 'c'
  i++;
  let k = 0;
  let digits = 0;
  while (i < e) {
    const d = buf[i]! - 48;
    if (d < 0 || d > 9) break;
    k = k * 10 + d;
    i++;
    digits++;
  }
  if (digits > 0 && k < counts.length) counts[k]!++;
}

// ---- sending ----------------------------------------------------------------------

const linePrefix = `MSG ${channel}: `;

/** The batch as one write (one text message); a backed-up socket holds its sender until it drains. */
function writeBatch(s: number, n: number, ts: number): void {
  let str = '';
  for (let k = 0; k < n; k++) str += `${linePrefix + load.nextPayload(s, ts)}\n`;
  const client = load.clients[s]!;
  const ws = client.ws;
  if (ws) {
    ws.send(str);
    if (ws.bufferedAmount <= SEND_HIGH_WATER) return;
    load.drainWait[s] = 1;
    const wait = (): void => {
      if (ws.bufferedAmount > SEND_HIGH_WATER) return void setTimeout(wait, 1);
      load.drainWait[s] = 0;
      if (rate === 0) load.schedulePump();
    };
    setTimeout(wait, 1);
    return;
  }
  const sock = client.socket!;
  if (!sock.write(Buffer.from(str, 'latin1'))) {
    load.drainWait[s] = 1;
    sock.once('drain', () => {
      load.drainWait[s] = 0;
      if (rate === 0) load.schedulePump();
    });
  }
}

const load: FanoutLoad<Client> = new FanoutLoad(o, {
  connect: (idx) => new Client(idx),
  sendBatch: writeBatch,
  close: (clients) => {
    for (const c of clients) {
      c.socket?.destroy();
      c.ws?.terminate();
    }
  },
  ...(overWs ? { config: { client: 'ws' } } : {}),
});
load.run();
