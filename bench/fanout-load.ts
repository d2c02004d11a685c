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
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseArgs, numFlag, strFlag, boolFlag } from './args.js';
import { LineSplitter } from './line-splitter.js';
import { LogHistogram } from './histogram.js';

const args = parseArgs(process.argv.slice(2));
function usageError(msg: string): never {
  process.stderr.write(`fanout-load: ${msg}\n`);
  process.exit(1);
}
function num(name: string, def: number, opts?: { min?: number; int?: boolean }): number {
  try {
    return numFlag(args, name, def, opts);
  } catch (err) {
    return usageError((err as Error).message);
  }
}
if (!args.flags.has('port')) usageError('--port is required');
const port = num('port', 0, { min: 1 });
const host = strFlag(args, 'host', '127.0.0.1');
const nClients = num('clients', 200, { min: 2 });
const nSenders = num('senders', 20, { min: 1 });
const nMessages = num('messages', 500, { min: 1 });
const payloadBytes = num('payload', 100, { min: 1 });
const rate = num('rate', 0, { int: false });
const timeoutS = num('timeout', 60, { min: 1, int: false });
const connectTimeoutS = num('connect-timeout', 30, { min: 1, int: false });
const windowMsgs = num('window', 50, { min: 1 });
const batchMsgs = num('batch', 50, { min: 1 });
const sampleEvery = num('sample-every', 10, { min: 1 });
const warmupMsgs = num('warmup', 0);
const connectConcurrency = num('connect-concurrency', 64, { min: 1 });
const channel = strFlag(args, 'channel', '#bench');
const controlStdin = boolFlag(args, 'control-stdin');
const progress = boolFlag(args, 'progress');

if (nSenders > nClients) usageError('--senders must be <= --clients');
// Longest payload header: "<µs> <sender>.<seq> "; the time is bounded by the timeout.
const maxHeader =
  String(Math.ceil((timeoutS + 10) * 1e6)).length + 1 + String(nSenders - 1).length + 1 + String(nMessages - 1).length + 1;
if (payloadBytes < maxHeader) usageError(`--payload must be >= ${maxHeader} bytes for this workload`);

const expectedTotal = nSenders * nMessages * (nClients - 1);
let hist = new LogHistogram();

let T0 = performance.now(); // reset at the start of sending
let recvUs = 0; // receive time of the chunk being parsed, µs since T0
let lastDeliveryUs = 0;
let totalDelivered = 0;
let started = false; // the measured phase began
let measuring = warmupMsgs === 0; // false during the warm-up
let phaseMessages = nMessages; // messages per sender in the current phase
let phaseExpected = expectedTotal; // deliveries expected in the current phase
let finished = false;
let joinedCount = 0;
let cpuAtStart: NodeJS.CpuUsage | undefined;

class Client {
  readonly nick: string;
  readonly socket: net.Socket;
  readonly expected: number;
  /** 0 connecting, 1 awaiting ACCEPT, 2 awaiting JOINED, 3 joined */
  phase = 0;
  delivered = 0;
  private sampleCountdown: number;
  /** Per-sender delivery counts, only on the designated receivers (window control). */
  perSender: Int32Array | null = null;
  isObserver = false;
  private readonly splitter: LineSplitter;

  constructor(readonly idx: number) {
    this.nick = `c${idx}`;
    this.expected = (idx < nSenders ? nSenders - 1 : nSenders) * nMessages;
    this.sampleCountdown = 1 + (idx % sampleEvery);
    this.splitter = new LineSplitter((buf, s, e) => this.onLine(buf, s, e));
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('connect', () => {
      this.phase = 1;
      this.socket.write(`CONNECT: "${this.nick}" "bench" 1.0.0\n`);
    });
    this.socket.on('data', (chunk: Buffer) => {
      recvUs = (performance.now() - T0) * 1000;
      const before = this.delivered;
      this.splitter.push(chunk);
      const got = this.delivered - before;
      if (got !== 0) {
        totalDelivered += got;
        lastDeliveryUs = recvUs;
        if (totalDelivered >= phaseExpected) phaseDone();
        else if (this.isObserver && waitingForWindow) schedulePump();
      }
    });
    this.socket.on('error', (err) => finish(`${this.nick}: socket error: ${err.message}`));
    this.socket.on('close', () => finish(`${this.nick}: connection closed by the server`));
  }

  private onLine(buf: Buffer, s: number, e: number): void {
    // "MSG " — a delivery. Counted without decoding.
    if (buf[s] === 77 && buf[s + 1] === 83 && buf[s + 2] === 71 && buf[s + 3] === 32) {
      this.delivered++;
      if (--this.sampleCountdown === 0) {
        this.sampleCountdown = sampleEvery;
        sampleLatency(buf, s, e);
      }
      if (this.perSender !== null) countSender(this.perSender, buf, s, e);
      return;
    }
    this.onControlLine(buf.toString('utf8', s, e));
  }

  private onControlLine(line: string): void {
    if (line.startsWith('PING')) {
      const m = /^PING\s*:\s*(.*)$/.exec(line);
      this.socket.write(`PONG: ${m ? m[1] : ''}\n`);
      return;
    }
    if (line.startsWith('ERROR') || line.startsWith('DISCONNECT')) {
      finish(`${this.nick}: server said: ${line}`);
      return;
    }
    if (this.phase === 1 && line.startsWith('ACCEPT')) {
      this.phase = 2;
      this.socket.write(`JOIN: ${channel}\n`);
    } else if (this.phase === 2 && line.startsWith('JOINED')) {
      const m = /^JOINED\s*:\s*(\S+)/.exec(line);
      if (m && m[1]!.toLowerCase() === channel.toLowerCase()) {
        this.phase = 3;
        onJoined();
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
  if (digits > 0) hist.record(recvUs - v);
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

// ---- connecting -------------------------------------------------------------------

const clients: Client[] = [];
let nextToConnect = 0;
let connectTimer: NodeJS.Timeout | undefined;

function connectMore(): void {
  while (nextToConnect < nClients && nextToConnect - joinedCount < connectConcurrency) {
    clients.push(new Client(nextToConnect++));
  }
}

function onJoined(): void {
  joinedCount++;
  if (joinedCount < nClients) {
    connectMore();
    return;
  }
  if (connectTimer) clearTimeout(connectTimer);
  observerA = clients[nClients - 1]!;
  observerB = clients[0]!;
  for (const o of [observerA, observerB]) {
    o.perSender = new Int32Array(nSenders);
    o.isObserver = true;
  }
  if (warmupMsgs > 0) beginPhase(warmupMsgs);
  else ready();
}

function ready(): void {
  process.stderr.write('READY\n');
  if (!controlStdin || goReceived) start();
}

function phaseDone(): void {
  if (measuring) {
    finish();
    return;
  }
  // End of the warm-up: everything was delivered; reset the counters and measure.
  if (loadTimer) clearTimeout(loadTimer);
  totalDelivered = 0;
  lastDeliveryUs = 0;
  sent.fill(0);
  for (const c of clients) {
    c.delivered = 0;
    c.perSender?.fill(0);
  }
  hist = new LogHistogram();
  measuring = true;
  ready();
}

// ---- sending ----------------------------------------------------------------------

const sent = new Int32Array(nSenders);
const drainWait = new Uint8Array(nSenders);
const pad = 'x'.repeat(payloadBytes);
const linePrefix = `MSG ${channel}: `;
let observerA: Client;
let observerB: Client;
let pumpScheduled = false;
let waitingForWindow = false;
let loadTimer: NodeJS.Timeout | undefined;
let progressTimer: NodeJS.Timeout | undefined;

function outstanding(s: number): number {
  const obs = s === observerA.idx ? observerB : observerA;
  return sent[s]! - obs.perSender![s]!;
}

function writeBatch(s: number, n: number): void {
  const ts = Math.round((performance.now() - T0) * 1000);
  let str = '';
  for (let k = 0; k < n; k++) {
    const head = `${ts} ${s}.${sent[s]!++} `;
    str += linePrefix + head + pad.substring(head.length) + '\n';
  }
  const sock = clients[s]!.socket;
  if (!sock.write(Buffer.from(str, 'latin1'))) {
    drainWait[s] = 1;
    sock.once('drain', () => {
      drainWait[s] = 0;
      if (rate === 0) schedulePump();
    });
  }
}

function schedulePump(): void {
  waitingForWindow = false;
  if (!pumpScheduled && !finished) {
    pumpScheduled = true;
    setImmediate(pump);
  }
}

/** Open loop: as fast as the window and the sockets allow. */
function pump(): void {
  pumpScheduled = false;
  if (finished) return;
  let sentAny = false;
  let unfinished = false;
  for (let s = 0; s < nSenders; s++) {
    const left = phaseMessages - sent[s]!;
    if (left <= 0) continue;
    unfinished = true;
    if (drainWait[s]) continue;
    const room = windowMsgs - outstanding(s);
    if (room <= 0) continue;
    writeBatch(s, Math.min(batchMsgs, room, left));
    sentAny = true;
  }
  if (!unfinished) return;
  if (sentAny) schedulePump();
  else waitingForWindow = true; // the observer or a 'drain' resumes us
}

/** Paced: rate deliveries/s in aggregate. */
function pacedTick(): void {
  if (finished) return;
  const perSenderRate = rate / (nClients - 1) / nSenders; // messages/s per sender
  const elapsedS = (performance.now() - T0) / 1000;
  let unfinished = false;
  for (let s = 0; s < nSenders; s++) {
    if (sent[s]! >= phaseMessages) continue;
    unfinished = true;
    if (drainWait[s]) continue;
    const due = Math.min(phaseMessages, Math.floor(elapsedS * perSenderRate + s / nSenders) + 1);
    const n = Math.min(due - sent[s]!, windowMsgs - outstanding(s), 1000);
    if (n > 0) writeBatch(s, n);
  }
  if (unfinished) setTimeout(pacedTick, 1);
}

/** Starts the measured phase. */
function start(): void {
  if (started || finished || !measuring) return;
  started = true;
  cpuAtStart = process.cpuUsage();
  beginPhase(nMessages);
  if (progress) {
    progressTimer = setInterval(() => {
      let sum = 0;
      for (let s = 0; s < nSenders; s++) sum += sent[s]!;
      process.stderr.write(`progress: sent ${sum}, delivered ${totalDelivered}/${expectedTotal}\n`);
    }, 1000);
  }
}

function beginPhase(messagesPerSender: number): void {
  phaseMessages = messagesPerSender;
  phaseExpected = nSenders * messagesPerSender * (nClients - 1);
  T0 = performance.now();
  const what = measuring ? 'timeout' : 'warm-up timeout';
  loadTimer = setTimeout(() => finish(`${what} after ${timeoutS} s`), timeoutS * 1000);
  // The warm-up always runs open loop: it only has to get the code paths hot.
  if (rate > 0 && measuring) pacedTick();
  else pump();
}

// ---- finishing --------------------------------------------------------------------

function round(v: number, digits: number): number | null {
  if (!Number.isFinite(v)) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

function finish(error?: string): void {
  if (finished) return;
  finished = true;
  if (connectTimer) clearTimeout(connectTimer);
  if (loadTimer) clearTimeout(loadTimer);
  if (progressTimer) clearInterval(progressTimer);
  const complete = error === undefined && measuring && totalDelivered >= expectedTotal;
  const elapsedUs = !started ? 0 : complete ? lastDeliveryUs : (performance.now() - T0) * 1000;
  const cpu = cpuAtStart ? process.cpuUsage(cpuAtStart) : { user: 0, system: 0 };
  let sentTotal = 0;
  for (let s = 0; s < nSenders; s++) sentTotal += sent[s]!;
  let clientsShort = 0;
  for (const c of clients) if (c.delivered < c.expected) clientsShort++;
  clientsShort += nClients - clients.length;
  const result = {
    deliveries: totalDelivered,
    expected: expectedTotal,
    elapsedS: round(elapsedUs / 1e6, 6),
    deliveriesPerSec: elapsedUs > 0 ? Math.round(totalDelivered / (elapsedUs / 1e6)) : 0,
    p50Ms: round(hist.percentile(50) / 1000, 3),
    p99Ms: round(hist.percentile(99) / 1000, 3),
    maxMs: round(hist.max / 1000, 3),
    meanMs: round(hist.mean() / 1000, 3),
    samples: hist.count,
    sent: sentTotal,
    clientsShort,
    loadCpuS: round((cpu.user + cpu.system) / 1e6, 4),
    complete,
    config: {
      clients: nClients,
      senders: nSenders,
      messages: nMessages,
      payload: payloadBytes,
      rate,
      window: windowMsgs,
      batch: batchMsgs,
      sampleEvery,
      warmup: warmupMsgs,
    },
    ...(error !== undefined ? { error } : {}),
  };
  const code = complete ? 0 : 2;
  process.stdout.write(JSON.stringify(result) + '\n', () => {
    if (controlStdin && started) {
      // Let the orchestrator read the server's counters before we disconnect.
      const t = setTimeout(() => exit(code), 30_000);
      t.unref();
      endHandler = () => exit(code);
    } else {
      exit(code);
    }
  });
}

function exit(code: number): never {
  for (const c of clients) c.socket.destroy();
  process.exit(code);
}

// ---- control ----------------------------------------------------------------------

let goReceived = false;
let endHandler: (() => void) | undefined;

if (controlStdin) {
  let buf = '';
  process.stdin.setEncoding('utf8');
  process.stdin.on('data', (d: string) => {
    buf += d;
    let nl: number;
    while ((nl = buf.indexOf('\n')) >= 0) {
      const cmd = buf.slice(0, nl).trim();
      buf = buf.slice(nl + 1);
      if (cmd === 'GO') {
        goReceived = true;
        start(); // no-op until the clients joined and the warm-up is over
      } else if (cmd === 'END') {
        if (endHandler) endHandler();
        else {
          finish('ended by the controller');
        }
      }
    }
  });
  // The orchestrator went away: never outlive it.
  const gone = (): void => exit(3);
  process.stdin.on('end', gone);
  process.stdin.on('error', gone);
}
process.on('SIGTERM', () => exit(4));
process.on('SIGINT', () => exit(4));

connectTimer = setTimeout(
  () => finish(`connect/join phase timed out after ${connectTimeoutS} s (${joinedCount}/${nClients} joined)`),
  connectTimeoutS * 1000,
);
connectMore();
