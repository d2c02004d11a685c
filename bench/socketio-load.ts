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
import { performance } from 'node:perf_hooks';
import { io, type Socket } from 'socket.io-client';
import { parseArgs, numFlag, strFlag, boolFlag } from './args.js';
import { LogHistogram } from './histogram.js';

const args = parseArgs(process.argv.slice(2));
function usageError(msg: string): never {
  process.stderr.write(`socketio-load: ${msg}\n`);
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
const controlStdin = boolFlag(args, 'control-stdin');
const progress = boolFlag(args, 'progress');

if (nSenders > nClients) usageError('--senders must be <= --clients');
const maxHeader =
  String(Math.ceil((timeoutS + 10) * 1e6)).length + 1 + String(nSenders - 1).length + 1 + String(nMessages - 1).length + 1;
if (payloadBytes < maxHeader) usageError(`--payload must be >= ${maxHeader} bytes for this workload`);

const expectedTotal = nSenders * nMessages * (nClients - 1);
let hist = new LogHistogram();
let T0 = performance.now();
let lastDeliveryUs = 0;
let totalDelivered = 0;
let started = false;
let measuring = warmupMsgs === 0;
let phaseMessages = nMessages;
let phaseExpected = expectedTotal;
let finished = false;
let joinedCount = 0;
let cpuAtStart: NodeJS.CpuUsage | undefined;

class Client {
  readonly nick: string;
  readonly socket: Socket;
  readonly expected: number;
  delivered = 0;
  joined = false;
  private sampleCountdown: number;
  perSender: Int32Array | null = null;
  isObserver = false;

  constructor(readonly idx: number) {
    this.nick = `c${idx}`;
    this.expected = (idx < nSenders ? nSenders - 1 : nSenders) * nMessages;
    this.sampleCountdown = 1 + (idx % sampleEvery);
    this.socket = io(`http://${host}:${port}`, { transports: ['websocket'], forceNew: true, reconnection: false, timeout: connectTimeoutS * 1000 });
    this.socket.on('joined', () => {
      if (this.joined) return;
      this.joined = true;
      onJoined();
    });
    this.socket.on('msg', (payload: string) => this.onMsg(payload));
    this.socket.on('connect_error', (err: Error) => finish(`${this.nick}: connect error: ${err.message}`));
    this.socket.on('disconnect', (reason: string) => finish(`${this.nick}: disconnected: ${reason}`));
  }

  private onMsg(payload: string): void {
    this.delivered++;
    totalDelivered++;
    if (--this.sampleCountdown === 0) {
      this.sampleCountdown = sampleEvery;
      const sp = payload.indexOf(' ');
      const sent = Number(payload.slice(0, sp));
      if (Number.isFinite(sent)) hist.record((performance.now() - T0) * 1000 - sent);
    }
    if (this.perSender !== null) {
      const sp = payload.indexOf(' ');
      const dot = payload.indexOf('.', sp);
      const k = Number(payload.slice(sp + 1, dot));
      if (k >= 0 && k < this.perSender.length) this.perSender[k]!++;
    }
    lastDeliveryUs = (performance.now() - T0) * 1000;
    if (totalDelivered >= phaseExpected) phaseDone();
    else if (this.isObserver && waitingForWindow) schedulePump();
  }
}

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

const sent = new Int32Array(nSenders);
const pad = 'x'.repeat(payloadBytes);
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

function emitBatch(s: number, n: number): void {
  const ts = Math.round((performance.now() - T0) * 1000);
  const sock = clients[s]!.socket;
  for (let k = 0; k < n; k++) {
    const head = `${ts} ${s}.${sent[s]!++} `;
    sock.emit('msg', head + pad.substring(head.length));
  }
}

function schedulePump(): void {
  waitingForWindow = false;
  if (!pumpScheduled && !finished) {
    pumpScheduled = true;
    setImmediate(pump);
  }
}

function pump(): void {
  pumpScheduled = false;
  if (finished) return;
  let sentAny = false;
  let unfinished = false;
  for (let s = 0; s < nSenders; s++) {
    const left = phaseMessages - sent[s]!;
    if (left <= 0) continue;
    unfinished = true;
    const room = windowMsgs - outstanding(s);
    if (room <= 0) continue;
    emitBatch(s, Math.min(batchMsgs, room, left));
    sentAny = true;
  }
  if (!unfinished) return;
  if (sentAny) schedulePump();
  else waitingForWindow = true;
}

function pacedTick(): void {
  if (finished) return;
  const perSenderRate = rate / (nClients - 1) / nSenders;
  const elapsedS = (performance.now() - T0) / 1000;
  let unfinished = false;
  for (let s = 0; s < nSenders; s++) {
    if (sent[s]! >= phaseMessages) continue;
    unfinished = true;
    const due = Math.min(phaseMessages, Math.floor(elapsedS * perSenderRate + s / nSenders) + 1);
    const n = Math.min(due - sent[s]!, windowMsgs - outstanding(s), 1000);
    if (n > 0) emitBatch(s, n);
  }
  if (unfinished) setTimeout(pacedTick, 1);
}

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
  if (rate > 0 && measuring) pacedTick();
  else pump();
}

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
      client: 'socket.io-client',
    },
    ...(error !== undefined ? { error } : {}),
  };
  const code = complete ? 0 : 2;
  process.stdout.write(JSON.stringify(result) + '\n', () => {
    if (controlStdin && started) {
      const t = setTimeout(() => exit(code), 30_000);
      t.unref();
      endHandler = () => exit(code);
    } else {
      exit(code);
    }
  });
}

function exit(code: number): never {
  for (const c of clients) {
    c.socket.off('disconnect');
    c.socket.disconnect();
  }
  process.exit(code);
}

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
        start();
      } else if (cmd === 'END') {
        if (endHandler) endHandler();
        else finish('ended by the controller');
      }
    }
  });
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
