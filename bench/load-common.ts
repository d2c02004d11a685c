// Shared by the load generators. FanoutLoad is the fan-out workload of fanout-load.ts (TCP,
// the parley protocol) and socketio-load.ts (socket.io-client): the flags, connecting and
// joining, the warm-up, open-loop window control and pacing, latency sampling, the result
// line and the exit. Each generator keeps its transport: connecting a client and parsing
// what it receives, sending a batch, disconnecting. StdinControl is the control protocol
// with the orchestrator on stdin (also used by voice-load.ts).
import { performance } from 'node:perf_hooks';
import { boolFlag, strFlag, toolFlags, type ToolFlags } from './args.js';
import { LatencyHistogram } from '../harness/load/metrics.js';

export function round(v: number, digits: number): number | null {
  if (!Number.isFinite(v)) return null;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

// ---- control ----------------------------------------------------------------------

/**
 * With --control-stdin: `GO` on stdin starts the measured phase, `END` ends the run, and
 * stdin closing exits with code 3 (never outlive the orchestrator). SIGTERM and SIGINT
 * exit with code 4 in any case.
 */
export class StdinControl {
  /** A `GO` line arrived. */
  goReceived = false;
  private endHandler: (() => void) | undefined;

  constructor(
    enabled: boolean,
    private readonly on: { go(): void; end(): void; exit(code: number): void },
  ) {
    if (enabled) {
      let buf = '';
      process.stdin.setEncoding('utf8');
      process.stdin.on('data', (d: string) => {
        buf += d;
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const cmd = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (cmd === 'GO') {
            this.goReceived = true;
            on.go();
          } else if (cmd === 'END') {
            if (this.endHandler) this.endHandler();
            else on.end();
          }
        }
      });
      // The orchestrator went away: never outlive it.
      const gone = (): void => on.exit(3);
      process.stdin.on('end', gone);
      process.stdin.on('error', gone);
    }
    process.on('SIGTERM', () => on.exit(4));
    process.on('SIGINT', () => on.exit(4));
  }

  /**
   * The result is out: exit with `code` at `END` (the orchestrator reads the server's
   * counters before we disconnect), or after 30 s at the latest.
   */
  exitAtEnd(code: number): void {
    setTimeout(() => this.on.exit(code), 30_000).unref();
    this.endHandler = () => this.on.exit(code);
  }
}

// ---- the fan-out workload -----------------------------------------------------------

export interface FanoutLoadOptions {
  readonly cli: ToolFlags;
  readonly port: number;
  /** With --ports P1,P2,...: client i connects to ports[i mod n] (nodes of one cluster); else [port]. */
  readonly ports: readonly number[];
  readonly host: string;
  readonly nClients: number;
  readonly nSenders: number;
  readonly nMessages: number;
  readonly payloadBytes: number;
  readonly rate: number;
  readonly timeoutS: number;
  readonly connectTimeoutS: number;
  readonly windowMsgs: number;
  readonly batchMsgs: number;
  readonly sampleEvery: number;
  readonly warmupMsgs: number;
  readonly connectConcurrency: number;
  readonly controlStdin: boolean;
  readonly progress: boolean;
}

/** The flags of the fan-out load generators (usage errors prefixed with `tool`). */
export function loadOptions(tool: string): FanoutLoadOptions {
  const cli = toolFlags(tool);
  const { args, num } = cli;
  const portsRaw = strFlag(args, 'ports');
  const ports = portsRaw?.split(',').map(Number) ?? [];
  if (ports.some((p) => !Number.isInteger(p) || p < 1 || p > 65535)) cli.usageError('--ports: expected P1,P2,...');
  if (!args.flags.has('port') && ports.length === 0) cli.usageError('--port is required');
  const port = ports[0] ?? num('port', 0, { min: 1 });
  return {
    cli,
    port,
    ports: ports.length > 0 ? ports : [port],
    host: strFlag(args, 'host', '127.0.0.1'),
    nClients: num('clients', 200, { min: 2 }),
    nSenders: num('senders', 20, { min: 1 }),
    nMessages: num('messages', 500, { min: 1 }),
    payloadBytes: num('payload', 100, { min: 1 }),
    rate: num('rate', 0, { int: false }),
    timeoutS: num('timeout', 60, { min: 1, int: false }),
    connectTimeoutS: num('connect-timeout', 30, { min: 1, int: false }),
    windowMsgs: num('window', 50, { min: 1 }),
    batchMsgs: num('batch', 50, { min: 1 }),
    sampleEvery: num('sample-every', 10, { min: 1 }),
    warmupMsgs: num('warmup', 0),
    connectConcurrency: num('connect-concurrency', 64, { min: 1 }),
    controlStdin: boolFlag(args, 'control-stdin'),
    progress: boolFlag(args, 'progress'),
  };
}

/** One client c<idx>: the part of it the workload reads. */
export abstract class FanoutClient {
  readonly nick: string;
  /** Deliveries it should get: every message of every sender but itself. */
  readonly expected: number;
  delivered = 0;
  /** Per-sender delivery counts, only on the designated receivers (window control). */
  perSender: Int32Array | null = null;
  isObserver = false;
  private sampleCountdown: number;
  private readonly sampleEvery: number;

  constructor(
    readonly idx: number,
    o: FanoutLoadOptions,
  ) {
    this.nick = `c${idx}`;
    this.expected = (idx < o.nSenders ? o.nSenders - 1 : o.nSenders) * o.nMessages;
    this.sampleEvery = o.sampleEvery;
    this.sampleCountdown = 1 + (idx % o.sampleEvery);
  }

  /** Call once per delivery: true for the one in --sample-every whose latency is sampled. */
  protected sampleDue(): boolean {
    if (--this.sampleCountdown !== 0) return false;
    this.sampleCountdown = this.sampleEvery;
    return true;
  }
}

export interface LoadTransport<C extends FanoutClient> {
  /** Creates client idx and connects it; it calls `joined()` once it is in the channel. */
  connect(idx: number): C;
  /** Sends n messages of sender s, each with the payload `nextPayload(s, ts)`. */
  sendBatch(s: number, n: number, ts: number): void;
  /** Disconnects the clients (on exit). */
  close(clients: readonly C[]): void;
  /** Extra fields at the end of the result's config. */
  readonly config?: Record<string, unknown>;
}

/**
 * The fan-out workload: clients c0..cN-1 join, (with --warmup W the senders first send W
 * messages each, open loop and unmeasured, and wait for their deliveries), `READY` on
 * stderr (with --control-stdin then wait for `GO`), senders c0..cS-1 send --messages each.
 * Open loop (--rate 0): every event-loop turn each sender sends up to --batch messages while
 * it has fewer than --window outstanding (sent but not yet received by an observer) and its
 * socket is not backed up. Paced (--rate N): N deliveries/s in aggregate by a 1 ms timer
 * (the window still applies). Ends when every delivery arrived or at --timeout; prints the
 * result as one JSON line on stdout.
 */
export class FanoutLoad<C extends FanoutClient> {
  readonly expectedTotal: number;
  /** The latency histogram (µs) of the current phase. */
  hist = new LatencyHistogram();
  /** Start of sending (performance.now() ms), reset for the measured phase. */
  private T0 = performance.now();
  private lastDeliveryUs = 0;
  private totalDelivered = 0;
  private started = false; // the measured phase began
  private measuring: boolean; // false during the warm-up
  private phaseMessages: number; // messages per sender in the current phase
  private phaseExpected: number; // deliveries expected in the current phase
  private finished = false;
  private joinedCount = 0;
  private cpuAtStart: NodeJS.CpuUsage | undefined;

  readonly clients: C[] = [];
  private nextToConnect = 0;
  private connectTimer: NodeJS.Timeout | undefined;

  /** Messages sent per sender in the current phase. */
  readonly sent: Int32Array;
  /** 1 while sender s waits for its socket's 'drain'. */
  readonly drainWait: Uint8Array;
  private readonly pad: string;
  private observerA!: C;
  private observerB!: C;
  private pumpScheduled = false;
  private waitingForWindow = false;
  private loadTimer: NodeJS.Timeout | undefined;
  private progressTimer: NodeJS.Timeout | undefined;
  private readonly control: StdinControl;

  constructor(
    readonly o: FanoutLoadOptions,
    private readonly transport: LoadTransport<C>,
  ) {
    const { nClients, nSenders, nMessages, timeoutS, payloadBytes } = o;
    if (nSenders > nClients) o.cli.usageError('--senders must be <= --clients');
    // Longest payload header: "<µs> <sender>.<seq> "; the time is bounded by the timeout.
    const maxHeader = String(Math.ceil((timeoutS + 10) * 1e6)).length + 1 + String(nSenders - 1).length + 1 + String(nMessages - 1).length + 1;
    if (payloadBytes < maxHeader) o.cli.usageError(`--payload must be >= ${maxHeader} bytes for this workload`);
    this.expectedTotal = nSenders * nMessages * (nClients - 1);
    this.measuring = o.warmupMsgs === 0;
    this.phaseMessages = nMessages;
    this.phaseExpected = this.expectedTotal;
    this.sent = new Int32Array(nSenders);
    this.drainWait = new Uint8Array(nSenders);
    this.pad = 'x'.repeat(payloadBytes);
    this.control = new StdinControl(o.controlStdin, {
      go: () => this.start(), // no-op until the clients joined and the warm-up is over
      end: () => this.finish('ended by the controller'),
      exit: (code) => this.exit(code),
    });
  }

  /** Connects the clients (the control on stdin is already listening). */
  run(): void {
    const { connectTimeoutS, nClients } = this.o;
    this.connectTimer = setTimeout(
      () => this.finish(`connect/join phase timed out after ${connectTimeoutS} s (${this.joinedCount}/${nClients} joined)`),
      connectTimeoutS * 1000,
    );
    this.connectMore();
  }

  /** µs since the start of sending. */
  nowUs(): number {
    return (performance.now() - this.T0) * 1000;
  }

  /** The next message of sender s: exactly --payload bytes, `<ts> <s>.<seq> ` then padding. */
  nextPayload(s: number, ts: number): string {
    const head = `${ts} ${s}.${this.sent[s]!++} `;
    return head + this.pad.substring(head.length);
  }

  /** n deliveries arrived on client c at atUs (µs since the start of sending). */
  onDeliveries(c: C, n: number, atUs: number): void {
    this.totalDelivered += n;
    this.lastDeliveryUs = atUs;
    if (this.totalDelivered >= this.phaseExpected) this.phaseDone();
    else if (c.isObserver && this.waitingForWindow) this.schedulePump();
  }

  // ---- connecting -----------------------------------------------------------------

  private connectMore(): void {
    const { nClients, connectConcurrency } = this.o;
    while (this.nextToConnect < nClients && this.nextToConnect - this.joinedCount < connectConcurrency) {
      this.clients.push(this.transport.connect(this.nextToConnect++));
    }
  }

  /** A client is in the channel. */
  joined(): void {
    const { nClients, nSenders, warmupMsgs } = this.o;
    this.joinedCount++;
    if (this.joinedCount < nClients) {
      this.connectMore();
      return;
    }
    if (this.connectTimer) clearTimeout(this.connectTimer);
    this.observerA = this.clients[nClients - 1]!;
    this.observerB = this.clients[0]!;
    for (const o of [this.observerA, this.observerB]) {
      o.perSender = new Int32Array(nSenders);
      o.isObserver = true;
    }
    if (warmupMsgs > 0) this.beginPhase(warmupMsgs);
    else this.ready();
  }

  private ready(): void {
    process.stderr.write('READY\n');
    if (!this.o.controlStdin || this.control.goReceived) this.start();
  }

  private phaseDone(): void {
    if (this.measuring) {
      this.finish();
      return;
    }
    // End of the warm-up: everything was delivered; reset the counters and measure.
    if (this.loadTimer) clearTimeout(this.loadTimer);
    this.totalDelivered = 0;
    this.lastDeliveryUs = 0;
    this.sent.fill(0);
    for (const c of this.clients) {
      c.delivered = 0;
      c.perSender?.fill(0);
    }
    this.hist = new LatencyHistogram();
    this.measuring = true;
    this.ready();
  }

  // ---- sending --------------------------------------------------------------------

  private outstanding(s: number): number {
    const obs = s === this.observerA.idx ? this.observerB : this.observerA;
    return this.sent[s]! - obs.perSender![s]!;
  }

  private sendBatch(s: number, n: number): void {
    this.transport.sendBatch(s, n, Math.round(this.nowUs()));
  }

  schedulePump(): void {
    this.waitingForWindow = false;
    if (!this.pumpScheduled && !this.finished) {
      this.pumpScheduled = true;
      setImmediate(this.pump);
    }
  }

  /** Open loop: as fast as the window and the sockets allow. */
  private readonly pump = (): void => {
    this.pumpScheduled = false;
    if (this.finished) return;
    const { nSenders, windowMsgs, batchMsgs } = this.o;
    let sentAny = false;
    let unfinished = false;
    for (let s = 0; s < nSenders; s++) {
      const left = this.phaseMessages - this.sent[s]!;
      if (left <= 0) continue;
      unfinished = true;
      if (this.drainWait[s]) continue;
      const room = windowMsgs - this.outstanding(s);
      if (room <= 0) continue;
      this.sendBatch(s, Math.min(batchMsgs, room, left));
      sentAny = true;
    }
    if (!unfinished) return;
    if (sentAny) this.schedulePump();
    else this.waitingForWindow = true; // the observer or a 'drain' resumes us
  };

  /** Paced: rate deliveries/s in aggregate. */
  private readonly pacedTick = (): void => {
    if (this.finished) return;
    const { nClients, nSenders, rate, windowMsgs } = this.o;
    const perSenderRate = rate / (nClients - 1) / nSenders; // messages/s per sender
    const elapsedS = (performance.now() - this.T0) / 1000;
    let unfinished = false;
    for (let s = 0; s < nSenders; s++) {
      if (this.sent[s]! >= this.phaseMessages) continue;
      unfinished = true;
      if (this.drainWait[s]) continue;
      const due = Math.min(this.phaseMessages, Math.floor(elapsedS * perSenderRate + s / nSenders) + 1);
      const n = Math.min(due - this.sent[s]!, windowMsgs - this.outstanding(s), 1000);
      if (n > 0) this.sendBatch(s, n);
    }
    if (unfinished) setTimeout(this.pacedTick, 1);
  };

  /** Starts the measured phase. */
  private start(): void {
    if (this.started || this.finished || !this.measuring) return;
    this.started = true;
    this.cpuAtStart = process.cpuUsage();
    this.beginPhase(this.o.nMessages);
    if (this.o.progress) {
      this.progressTimer = setInterval(() => {
        let sum = 0;
        for (let s = 0; s < this.o.nSenders; s++) sum += this.sent[s]!;
        process.stderr.write(`progress: sent ${sum}, delivered ${this.totalDelivered}/${this.expectedTotal}\n`);
      }, 1000);
    }
  }

  private beginPhase(messagesPerSender: number): void {
    const { nClients, nSenders, timeoutS, rate } = this.o;
    this.phaseMessages = messagesPerSender;
    this.phaseExpected = nSenders * messagesPerSender * (nClients - 1);
    this.T0 = performance.now();
    const what = this.measuring ? 'timeout' : 'warm-up timeout';
    this.loadTimer = setTimeout(() => this.finish(`${what} after ${timeoutS} s`), timeoutS * 1000);
    // The warm-up always runs open loop: it only has to get the code paths hot.
    if (rate > 0 && this.measuring) this.pacedTick();
    else this.pump();
  }

  // ---- finishing ------------------------------------------------------------------

  /** Prints the result line and exits (with --control-stdin, after a measured phase: at `END`). */
  finish(error?: string): void {
    if (this.finished) return;
    this.finished = true;
    if (this.connectTimer) clearTimeout(this.connectTimer);
    if (this.loadTimer) clearTimeout(this.loadTimer);
    if (this.progressTimer) clearInterval(this.progressTimer);
    const o = this.o;
    const hist = this.hist;
    const complete = error === undefined && this.measuring && this.totalDelivered >= this.expectedTotal;
    const elapsedUs = !this.started ? 0 : complete ? this.lastDeliveryUs : this.nowUs();
    const cpu = this.cpuAtStart ? process.cpuUsage(this.cpuAtStart) : { user: 0, system: 0 };
    let sentTotal = 0;
    for (let s = 0; s < o.nSenders; s++) sentTotal += this.sent[s]!;
    let clientsShort = 0;
    for (const c of this.clients) if (c.delivered < c.expected) clientsShort++;
    clientsShort += o.nClients - this.clients.length;
    const result = {
      deliveries: this.totalDelivered,
      expected: this.expectedTotal,
      elapsedS: round(elapsedUs / 1e6, 6),
      deliveriesPerSec: elapsedUs > 0 ? Math.round(this.totalDelivered / (elapsedUs / 1e6)) : 0,
      ...latencyFields(hist),
      samples: hist.count,
      sent: sentTotal,
      clientsShort,
      loadCpuS: round((cpu.user + cpu.system) / 1e6, 4),
      complete,
      config: {
        clients: o.nClients,
        senders: o.nSenders,
        messages: o.nMessages,
        payload: o.payloadBytes,
        rate: o.rate,
        window: o.windowMsgs,
        batch: o.batchMsgs,
        sampleEvery: o.sampleEvery,
        warmup: o.warmupMsgs,
        ...this.transport.config,
      },
      ...(error !== undefined ? { error } : {}),
    };
    const code = complete ? 0 : 2;
    process.stdout.write(`${JSON.stringify(result)}\n`, () => {
      if (o.controlStdin && this.started) this.control.exitAtEnd(code);
      else this.exit(code);
    });
  }

  private exit(code: number): never {
    this.transport.close(this.clients);
    process.exit(code);
  }
}

/** The latency fields of a bench result (ms); null when nothing was recorded. */
export function latencyFields(hist: LatencyHistogram): { p50Ms: number | null; p99Ms: number | null; maxMs: number | null; meanMs: number | null } {
  if (hist.count === 0) return { p50Ms: null, p99Ms: null, maxMs: null, meanMs: null };
  const s = hist.summary();
  return { p50Ms: s.p50, p99Ms: s.p99, maxMs: s.max, meanMs: s.mean };
}
