// Load generator for the UDP voice benchmark: K concurrent 1:1 calls, both parties sending
// paced Avro VoiceFrame datagrams through a relay (parley or the bare forwarder).
//
//   node dist/bench/voice-load.js --mode parley|bare --port P [--udp-port P] [--host 127.0.0.1]
//     [--calls 100] [--rates 50] [--payload 100] [--warmup 1] [--settle 0.5] [--duration 3]
//     [--drain 0.5] [--max-burst 4] [--udp-buffer 4194304] [--first 0] [--connect-concurrency 200]
//     [--setup-timeout 60] [--control-stdin] [--progress] [--port-b P [--udp-port-b P]]
//   --port-b: the B party of every call connects to this node (a cluster node) instead
//
// Set-up (not measured):
//   parley: per call two TCP clients `va<i>` and `vb<i>`; all connections are opened first,
//           then they send `CONNECT: "<nick>" "r" 1.0.0` in waves of --connect-concurrency
//           (each join of the default channel is O(members) for the server; joins that
//           arrive together share its writes); then per call, A sends
//           `TALK vb<i>: REQUEST`, both read `TALK <peer> <key>: REQUEST`, B sends
//           `TALK va<i> <key>: ACCEPT`, A reads `ACCEPTED`. Each party then sends an
//           empty-payload bind frame (seq 0) from its own UDP socket. Lines the clients
//           do not need (parley's #lobby USERLIST/USERJOIN storm) are read and discarded;
//           `PING` is answered.
//   bare:   the pairs' UDP `address:port`s are registered over a TCP control connection
//           (`PAIR a b` lines, then `SYNC` -> `OK n`).
// One UDP socket per party (2K sockets), bound to 127.0.0.1 and connected to the relay,
// receive and send buffers --udp-buffer.
// Then it prints `READY` (stdout); with --control-stdin it waits for `GO` on stdin.
//
// Load: one phase per entry of --rates (frames/s per party). The first phase starts with
// --warmup seconds unmeasured, later ones with --settle seconds unmeasured; then --duration
// seconds are measured. The measured window of phase i is announced on stdout as
// `PHASE i START` and `PHASE i END` (the orchestrator samples the server's CPU there).
// Pacing: a 1 ms timer sends every party's due frames (parties staggered over the frame
// interval); a party more than --max-burst frames behind skips the rest (counted as
// `skipped`: the generator could not offer the load). Frames are encoded with the party's
// real key and nick; `ts` is `performance.timeOrigin + performance.now()` in ms, so the
// receiver (this process) measures latency = receivedAt - ts on the same clock, and
// RFC 3550 interarrival jitter per stream (J += (|D| - J) / 16).
//
// A frame belongs to the phase whose measured window contains its ts; loss is counted
// after --drain seconds without sending. Prints one JSON line on stdout with the phases.
// --progress prints sent/received frames, the largest latency and the largest gap between
// pacing ticks every 250 ms on stderr.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { performance } from 'node:perf_hooks';
import { strFlag, boolFlag, toolFlags } from './args.js';
import { LineSplitter } from './line-splitter.js';
import { LatencyHistogram } from '../harness/load/metrics.js';
import { encodeLoadFrame } from '../harness/load/voice-frame-fast.js';
import { latencyFields, round, StdinControl } from './load-common.js';
import { encodeVoiceFrame, decodeVoiceFrame, framePrefix } from '../plugins/voip/voice-frame.js';

const { args, usageError, num } = toolFlags('voice-load');
const mode = strFlag(args, 'mode', 'parley');
if (mode !== 'parley' && mode !== 'bare') usageError('--mode must be parley or bare');
if (!args.flags.has('port')) usageError('--port is required');
const host = strFlag(args, 'host', '127.0.0.1');
const tcpPort = num('port', 0, { min: 1 });
const udpPort = num('udp-port', tcpPort, { min: 1 });
// Cross-node calls (a cluster): the B parties (`vb<i>`) connect to another node.
const tcpPortB = num('port-b', tcpPort, { min: 1 });
const udpPortB = num('udp-port-b', args.flags.has('port-b') ? tcpPortB : udpPort, { min: 1 });
const nCalls = num('calls', 100, { min: 1 });
const rates = strFlag(args, 'rates', '50')
  .split(',')
  .map((s) => Number(s));
if (rates.some((r) => !Number.isFinite(r) || r <= 0)) usageError('--rates: positive numbers, comma-separated');
const payloadBytes = num('payload', 100, { min: 1 });
const warmupS = num('warmup', 1, { int: false });
const settleS = num('settle', 0.5, { int: false });
const durationS = num('duration', 3, { min: 0.1, int: false });
const drainS = num('drain', 0.5, { int: false });
const maxBurst = num('max-burst', 4, { min: 1 });
const udpBuffer = num('udp-buffer', 4 * 1024 * 1024, { min: 1 });
const firstCall = num('first', 0);
const setupTimeoutS = num('setup-timeout', 60, { min: 1, int: false });
const connectConcurrency = num('connect-concurrency', 200, { min: 1 });
const controlStdin = boolFlag(args, 'control-stdin');
const progress = boolFlag(args, 'progress');

const nParties = 2 * nCalls;

// ---- frames -----------------------------------------------------------------------

/** Reads seq (skipped) and ts of a frame whose key+nick prefix is prefixLen bytes; NaN if malformed. */
function readTs(buf: Buffer, prefixLen: number): number {
  let i = prefixLen;
  const end = buf.length;
  while (i < end && (buf[i]! & 0x80) !== 0) i++;
  i++;
  if (i + 8 > end) return NaN;
  return buf.readDoubleLE(i);
}

/** The key in the frames a party receives: parley empties it (protocol 1.1.0), the bare forwarder does not. */
function relayedKey(p: Party): string {
  return mode === 'parley' ? '' : p.key;
}

function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

// ---- parties ----------------------------------------------------------------------

interface Party {
  readonly idx: number;
  readonly nick: string;
  readonly peerNick: string;
  key: string;
  /** key + nick of the frames this party sends. */
  prefix: Buffer;
  /** Length of the key + nick prefix of the frames it receives (the peer's). */
  peerPrefixLen: number;
  readonly payload: Buffer;
  udp: dgram.Socket | undefined;
  localPort: number;
  tcp: net.Socket | undefined;
  seq: number;
  /** Frames sent in the current phase (pacing). */
  sentInPhase: number;
  /** Stagger within the frame interval, in frames [0, 1). */
  readonly offset: number;
  // receiving stream (from the peer)
  verified: boolean;
  lastTransit: number;
  jitter: number;
  streamPhase: number;
}

const parties: Party[] = [];
for (let i = 0; i < nCalls; i++) {
  const n = firstCall + i;
  for (const side of ['a', 'b'] as const) {
    const idx = parties.length;
    parties.push({
      idx,
      nick: `v${side}${n}`,
      peerNick: `v${side === 'a' ? 'b' : 'a'}${n}`,
      key: '',
      prefix: Buffer.alloc(0),
      peerPrefixLen: 0,
      payload: Buffer.alloc(payloadBytes, (n * 7 + (side === 'a' ? 1 : 2)) & 0xff),
      udp: undefined,
      localPort: 0,
      tcp: undefined,
      seq: 0,
      sentInPhase: 0,
      offset: (((idx * 0.6180339887) % 1) + 1) % 1,
      verified: false,
      lastTransit: NaN,
      jitter: 0,
      streamPhase: -1,
    });
  }
}

// ---- measurement state ------------------------------------------------------------

interface PhaseStats {
  rate: number;
  startMs: number; // measured window, epoch ms
  endMs: number;
  sent: number;
  skipped: number;
  received: number;
  corrupt: number;
  hist: LatencyHistogram;
  jitterSum: number;
  jitterStreams: number;
  loadCpuStart?: NodeJS.CpuUsage;
  loadCpuUs?: number;
}

const phases: PhaseStats[] = rates.map((rate) => ({
  rate,
  startMs: Infinity,
  endMs: -Infinity,
  sent: 0,
  skipped: 0,
  received: 0,
  corrupt: 0,
  hist: new LatencyHistogram(),
  jitterSum: 0,
  jitterStreams: 0,
}));
let unmeasuredSent = 0;
let unmeasuredReceived = 0;
let lateReceived = 0; // after the drain
let ended = 0; // TALK ... ENDED seen during the load
let tcpBytesDuringLoad = 0;
let finished = false;
let loading = false;

function phaseOfTs(ts: number): number {
  for (let i = 0; i < phases.length; i++) {
    const ph = phases[i]!;
    if (ts >= ph.startMs && ts < ph.endMs) return i;
  }
  return -1;
}

function closeStream(p: Party): void {
  if (p.streamPhase >= 0 && Number.isFinite(p.lastTransit)) {
    const ph = phases[p.streamPhase]!;
    ph.jitterSum += p.jitter;
    ph.jitterStreams++;
  }
  p.streamPhase = -1;
  p.jitter = 0;
  p.lastTransit = NaN;
}

function onFrame(p: Party, buf: Buffer): void {
  const recvAt = nowMs();
  progRecv++;
  if (finished) {
    lateReceived++;
    return;
  }
  if (!p.verified) {
    // Check the first frame of every stream with the real decoder.
    p.verified = true;
    const f = decodeVoiceFrame(buf);
    if (f === undefined || f.nick !== p.peerNick || f.key !== relayedKey(p) || f.payload.length !== payloadBytes) {
      phases[0]!.corrupt++;
      return;
    }
  }
  const ts = readTs(buf, p.peerPrefixLen);
  const pi = Number.isNaN(ts) ? -1 : phaseOfTs(ts);
  if (pi !== p.streamPhase) {
    closeStream(p);
    p.streamPhase = pi;
  }
  if (pi < 0) {
    unmeasuredReceived++;
    return;
  }
  const ph = phases[pi]!;
  ph.received++;
  const transit = recvAt - ts;
  if (transit > progMaxTransit) progMaxTransit = transit;
  ph.hist.recordUs(transit * 1000);
  if (Number.isFinite(p.lastTransit)) p.jitter += (Math.abs(transit - p.lastTransit) - p.jitter) / 16;
  p.lastTransit = transit;
}

// ---- set-up -----------------------------------------------------------------------

function fail(msg: string): void {
  if (finished) return;
  finished = true;
  process.stdout.write(`${JSON.stringify({ error: msg })}\n`, () => exit(2));
}

function exit(code: number): void {
  for (const p of parties) {
    p.tcp?.destroy();
    try {
      p.udp?.close();
    } catch {
      /* closed */
    }
  }
  process.exit(code);
}

async function openUdp(p: Party): Promise<void> {
  const sock = dgram.createSocket({ type: 'udp4', recvBufferSize: udpBuffer, sendBufferSize: udpBuffer });
  p.udp = sock;
  sock.on('message', (buf) => onFrame(p, buf));
  sock.on('error', (err) => {
    if (!finished) process.stderr.write(`voice-load: ${p.nick}: udp error: ${err.message}\n`);
  });
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.bind(0, '127.0.0.1', () => {
      sock.off('error', reject);
      resolve();
    });
  });
  p.localPort = sock.address().port;
  await new Promise<void>((resolve, reject) => {
    sock.once('error', reject);
    sock.connect(p.nick.startsWith('vb') ? udpPortB : udpPort, host, () => {
      sock.off('error', reject);
      resolve();
    });
  });
}

/** Runs fn over items with at most `limit` in flight. */
async function pool<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(workers);
}

/** A parley client: line-oriented, waits for lines matching a predicate. */
class Client {
  private waiters: { test: (l: string) => boolean; resolve: (l: string) => void }[] = [];
  private readonly splitter: LineSplitter;
  closed = false;

  constructor(readonly party: Party) {
    this.splitter = new LineSplitter((buf, s, e) => {
      const c = buf[s];
      // USERJOIN / USERLIST / USERLEAVE of the #lobby storm, JOINED: not needed.
      if (c === 85 /* U */ || c === 74 /* J */) return;
      this.onLine(buf.toString('utf8', s, e));
    }, 1 << 22);
    const sock = net.connect({ host, port: party.nick.startsWith('vb') ? tcpPortB : tcpPort, noDelay: true });
    party.tcp = sock;
    sock.on('data', (d: Buffer) => {
      if (loading) tcpBytesDuringLoad += d.length;
      this.splitter.push(d);
    });
    sock.on('error', (err) => {
      if (!finished) fail(`${party.nick}: tcp error: ${err.message}`);
    });
    sock.on('close', () => {
      this.closed = true;
      if (!finished) fail(`${party.nick}: connection closed by the server`);
    });
  }

  private onLine(line: string): void {
    if (line.startsWith('PING')) {
      this.party.tcp!.write(`PONG${line.slice(4)}\n`);
      return;
    }
    if (line.startsWith('ERROR') || line.startsWith('DISCONNECT')) {
      fail(`${this.party.nick}: server said: ${line}`);
      return;
    }
    if (line.startsWith('TALK') && / ENDED$/.test(line.replace(/\s+$/, '')) && loading) ended++;
    for (let i = 0; i < this.waiters.length; i++) {
      const w = this.waiters[i]!;
      if (w.test(line)) {
        this.waiters.splice(i, 1);
        w.resolve(line);
        return;
      }
    }
  }

  write(line: string): void {
    this.party.tcp!.write(`${line}\n`);
  }

  waitFor(test: (l: string) => boolean): Promise<string> {
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }
}

const clientsByParty: Client[] = [];

/** Opens the party's TCP connection; resolves once connected. */
function openClient(p: Party): Promise<void> {
  const c = new Client(p);
  clientsByParty[p.idx] = c;
  return new Promise((resolve, reject) => {
    p.tcp!.once('connect', () => resolve());
    p.tcp!.once('error', reject);
  });
}

/** CONNECT for a batch of parties at once; resolves when all got ACCEPT. */
async function loginWave(batch: readonly Party[]): Promise<void> {
  const waits = batch.map((p) => clientsByParty[p.idx]!.waitFor((l) => l.startsWith('ACCEPT')));
  for (const p of batch) clientsByParty[p.idx]!.write(`CONNECT: "${p.nick}" "r" 1.0.0`);
  await Promise.all(waits);
}

async function talkSetup(i: number): Promise<void> {
  const a = parties[2 * i]!;
  const b = parties[2 * i + 1]!;
  const ca = clientsByParty[a.idx]!;
  const cb = clientsByParty[b.idx]!;
  const reqRe = (peer: string): RegExp => new RegExp(`^TALK ${peer} ([A-Za-z0-9]+)\\s*:\\s*REQUEST$`, 'i');
  const ra = ca.waitFor((l) => reqRe(b.nick).test(l));
  const rb = cb.waitFor((l) => reqRe(a.nick).test(l));
  ca.write(`TALK ${b.nick}: REQUEST`);
  const [la, lb] = await Promise.all([ra, rb]);
  // Protocol 1.1.0: each party gets its own key.
  a.key = reqRe(b.nick).exec(la)![1]!;
  b.key = reqRe(a.nick).exec(lb)![1]!;
  const acc = ca.waitFor((l) => new RegExp(`^TALK ${b.nick} ${a.key}\\s*:\\s*ACCEPTED$`, 'i').test(l));
  cb.write(`TALK ${a.nick} ${b.key}: ACCEPT`);
  await acc;
}

/**
 * Opens every TCP connection first, then logs the clients in in waves of
 * --connect-concurrency (joins that arrive together share the server's writes to the
 * members of #lobby: each join there is O(members)), then sets up the calls.
 */
async function setupParley(): Promise<void> {
  await pool(parties, connectConcurrency, openClient);
  for (let i = 0; i < parties.length; i += connectConcurrency) await loginWave(parties.slice(i, i + connectConcurrency));
  const idx = Array.from({ length: nCalls }, (_, i) => i);
  await pool(idx, connectConcurrency, talkSetup);
}

async function setupBare(): Promise<void> {
  for (let i = 0; i < nCalls; i++) {
    const key = `bench${String(firstCall + i).padStart(17, '0')}`; // 22 characters, like parley's keys
    parties[2 * i]!.key = key;
    parties[2 * i + 1]!.key = key;
  }
  const ctl = net.connect({ host, port: tcpPort });
  await new Promise<void>((resolve, reject) => {
    ctl.once('connect', resolve);
    ctl.once('error', reject);
  });
  let text = '';
  for (let i = 0; i < nCalls; i++) {
    text += `PAIR 127.0.0.1:${parties[2 * i]!.localPort} 127.0.0.1:${parties[2 * i + 1]!.localPort}\n`;
  }
  text += 'SYNC\n';
  ctl.setEncoding('utf8');
  const reply = new Promise<string>((resolve, reject) => {
    let buf = '';
    ctl.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) resolve(buf.slice(0, nl));
    });
    ctl.once('error', reject);
    ctl.once('close', () => reject(new Error('control connection closed')));
  });
  ctl.write(text);
  const line = await reply;
  if (line !== `OK ${nCalls}`) throw new Error(`forwarder answered ${line}, expected OK ${nCalls}`);
  ctl.destroy();
}

function checkEncoder(p: Party): void {
  for (const seq of [0, 1, 63, 64, 8191, 8192, 1_048_575, 1_048_576, 123_456_789]) {
    const ts = nowMs();
    const fast = encodeLoadFrame(p.prefix, seq, ts, p.payload);
    const ref = encodeVoiceFrame({ key: p.key, nick: p.nick, seq, ts, payload: p.payload });
    if (!fast.equals(ref)) throw new Error('internal: the fast frame encoder disagrees with encodeVoiceFrame');
  }
}

async function setup(): Promise<void> {
  await pool(parties, 100, openUdp);
  if (mode === 'parley') await setupParley();
  else await setupBare();
  for (const p of parties) {
    p.prefix = framePrefix(p.key, p.nick);
    p.peerPrefixLen = framePrefix(relayedKey(p), p.peerNick).length;
  }
  checkEncoder(parties[0]!);
  if (mode === 'parley') {
    // Bind frames: empty payload, seq 0, encoded by the reference encoder.
    for (const p of parties) {
      p.udp!.send(encodeVoiceFrame({ key: p.key, nick: p.nick, seq: 0, ts: nowMs(), payload: Buffer.alloc(0) }));
      p.seq = 1;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

// ---- load -------------------------------------------------------------------------

interface Segment {
  phase: number;
  measured: boolean;
  startMs: number; // epoch ms
  endMs: number;
}

let segments: Segment[] = [];
let segIdx = 0;
let segStart = 0; // epoch ms of the start of the current phase (pacing)
let tickTimer: NodeJS.Timeout | undefined;

function buildTimeline(t0: number): void {
  let t = t0;
  segments = [];
  for (let i = 0; i < rates.length; i++) {
    const pre = i === 0 ? warmupS : settleS;
    if (pre > 0) {
      segments.push({ phase: i, measured: false, startMs: t, endMs: t + pre * 1000 });
      t += pre * 1000;
    }
    segments.push({ phase: i, measured: true, startMs: t, endMs: t + durationS * 1000 });
    phases[i]!.startMs = t;
    phases[i]!.endMs = t + durationS * 1000;
    t += durationS * 1000;
  }
}

function enterSegment(i: number, now: number): void {
  const prev = segments[segIdx];
  if (prev?.measured && i !== segIdx) {
    const ph = phases[prev.phase]!;
    ph.loadCpuUs = cpuUs(process.cpuUsage(ph.loadCpuStart));
    process.stdout.write(`PHASE ${prev.phase} END\n`);
  }
  segIdx = i;
  const seg = segments[i];
  if (seg === undefined) return;
  const newPhase = i === 0 || segments[i - 1]!.phase !== seg.phase;
  if (newPhase) {
    for (const p of parties) p.sentInPhase = 0;
    segStart = now;
  }
  if (seg.measured) {
    phases[seg.phase]!.loadCpuStart = process.cpuUsage();
    process.stdout.write(`PHASE ${seg.phase} START\n`);
  }
}

function cpuUs(u: NodeJS.CpuUsage): number {
  return u.user + u.system;
}

let maxTickGap = 0;
let lastTick = 0;
let progSent = 0;
let progRecv = 0;
let progMaxTransit = 0;

function tick(): void {
  if (finished) return;
  let now = nowMs();
  if (lastTick > 0 && now - lastTick > maxTickGap) maxTickGap = now - lastTick;
  lastTick = now;
  while (segIdx < segments.length && now >= segments[segIdx]!.endMs) enterSegment(segIdx + 1, now);
  const seg = segments[segIdx];
  if (seg === undefined) {
    loading = false;
    setTimeout(finish, drainS * 1000);
    return;
  }
  const ph = phases[seg.phase]!;
  const perMs = ph.rate / 1000;
  const elapsed = now - segStart;
  for (let k = 0; k < parties.length; k++) {
    const p = parties[k]!;
    const due = Math.floor(elapsed * perMs + p.offset);
    let n = due - p.sentInPhase;
    if (n <= 0) continue;
    if (n > maxBurst) {
      if (seg.measured) ph.skipped += n - maxBurst;
      p.sentInPhase += n - maxBurst;
      n = maxBurst;
    }
    const sock = p.udp!;
    for (let j = 0; j < n; j++) {
      now = nowMs();
      sock.send(encodeLoadFrame(p.prefix, p.seq++, now, p.payload));
      progSent++;
      // Attributed by send time (the frame's ts), as the receiver does.
      if (now >= ph.startMs && now < ph.endMs) ph.sent++;
      else {
        const pi = phaseOfTs(now);
        if (pi >= 0) phases[pi]!.sent++;
        else unmeasuredSent++;
      }
    }
    p.sentInPhase += n;
  }
  tickTimer = setTimeout(tick, 1);
}

function start(): void {
  if (loading || finished) return;
  loading = true;
  const t0 = nowMs();
  buildTimeline(t0);
  segIdx = 0;
  enterSegment(0, t0);
  if (progress) {
    const iv = setInterval(() => {
      if (finished) return clearInterval(iv);
      const mu = process.memoryUsage();
      process.stderr.write(
        `progress: sent ${progSent} recv ${progRecv} max latency ${progMaxTransit.toFixed(1)} ms max tick gap ${maxTickGap.toFixed(1)} ms heap ${(mu.heapUsed / 1e6).toFixed(0)} MB\n`,
      );
      progMaxTransit = 0;
      progSent = 0;
      progRecv = 0;
      maxTickGap = 0;
    }, 250);
  }
  tick();
}

function finish(): void {
  if (finished) return;
  for (const p of parties) closeStream(p);
  finished = true;
  if (tickTimer) clearTimeout(tickTimer);
  const out = phases.map((ph) => {
    const lost = ph.sent - ph.received;
    return {
      ratePerParty: ph.rate,
      offeredFps: Math.round(ph.rate * nParties),
      sentFps: Math.round(ph.sent / durationS),
      relayedFps: Math.round(ph.received / durationS),
      sent: ph.sent,
      received: ph.received,
      skipped: ph.skipped,
      corrupt: ph.corrupt,
      lossPct: ph.sent > 0 ? round((100 * lost) / ph.sent, 4) : null,
      ...latencyFields(ph.hist),
      jitterMs: ph.jitterStreams > 0 ? round(ph.jitterSum / ph.jitterStreams, 4) : null,
      loadCpuS: ph.loadCpuUs !== undefined ? round(ph.loadCpuUs / 1e6, 4) : null,
      loadCpuUtil: ph.loadCpuUs !== undefined ? round(ph.loadCpuUs / 1e6 / durationS, 3) : null,
    };
  });
  const result = {
    mode,
    calls: nCalls,
    parties: nParties,
    payload: payloadBytes,
    durationS,
    phases: out,
    unmeasuredSent,
    unmeasuredReceived,
    lateReceived,
    talksEnded: ended,
    tcpBytesDuringLoad,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`, () => {
    if (!controlStdin) exit(0);
    // Wait for END (or stdin closing) so the orchestrator reads the server first.
    control.exitAtEnd(0);
  });
}

// ---- control ----------------------------------------------------------------------

let isReady = false;
const control = new StdinControl(controlStdin, {
  go: () => {
    if (isReady) start();
  },
  end: () => exit(3),
  exit,
});

const setupTimer = setTimeout(() => fail(`set-up timed out after ${setupTimeoutS} s`), setupTimeoutS * 1000);
const t0 = performance.now();
setup()
  .then(() => {
    clearTimeout(setupTimer);
    if (finished) return;
    isReady = true;
    process.stdout.write(`READY ${Math.round(performance.now() - t0)}\n`);
    if (!controlStdin || control.goReceived) start();
  })
  .catch((err: unknown) => {
    clearTimeout(setupTimer);
    fail(`set-up failed: ${err instanceof Error ? err.message : String(err)}`);
  });
