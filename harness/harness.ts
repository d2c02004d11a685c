/**
 * The load harness as a library (after autocannon): `run(opts)` resolves to a
 * `LoadResult`; a `Harness` also emits `start`, `tick` (once a second) and
 * `done`. `parley load` only renders what it emits.
 */
import { EventEmitter } from 'node:events';
import { randomInt } from 'node:crypto';
import { DEFAULT_LIMITS, type Limits } from '../core/index.js';
import { BUILTIN_PLUGIN_NAMES, type BuiltinPluginName } from '../index.js';
import { startEmbedded, type EmbeddedServer, type RelayCounters } from './embedded-server.js';
import { DEFAULT_LOAD_OPTIONS, EMBEDDED_LOAD_LIMITS, MAX_CONNECTING, type LoadMix, type LoadScenario } from './defaults.js';
import { LoadClient, nowUs, voiceNowMs, type LoadContext } from './load-client.js';
import type { LoadVoice } from './load-voice.js';
import { bump, LoadMetrics, round3 } from './metrics.js';
import { opusDecoder, readVoiceWav } from './opus.js';
import { limitHints, type LoadResult, type LoadTarget } from './report.js';
import { createScenario, type Scenario, type ScenarioEnv } from './scenarios/index.js';
import { within } from './scenarios/scenario.js';
import { pidSampler, type ServerSampler } from './server-stats.js';

export { formatReport, checkThresholds, limitHints, totalLoss } from './report.js';
export type { LoadResult, LoadThresholds, LoadTarget, VoiceResult, ChurnResult } from './report.js';
export { DEFAULT_LOAD_OPTIONS, LOAD_SCENARIOS, EMBEDDED_LOAD_LIMITS, type LoadScenario, type LoadMix } from './defaults.js';
export type { LatencySummaryMs } from './metrics.js';
export type { ServerStats } from './server-stats.js';

export interface EmbeddedOptions {
  /** Plugins of the embedded server. Default: every built-in. */
  plugins?: readonly BuiltinPluginName[];
  /** Limits on top of the load tuning ({@link EMBEDDED_LOAD_LIMITS}). */
  limits?: Partial<Limits>;
  /**
   * 'worker' (default): the server runs in a worker thread of this process, so
   * that it and the load clients each get a core; 'main': on this thread.
   */
  thread?: 'worker' | 'main';
}

export interface LoadOptions {
  /** A running server. Without it, an embedded server is started in this process. */
  target?: { host: string; port: number; udpPort?: number };
  /** Options of the embedded server (ignored with `target`). */
  embedded?: EmbeddedOptions;
  /** Default 'chat'. */
  scenario?: LoadScenario;
  /** Default 100 (churn: concurrent connect/leave loops). */
  clients?: number;
  /** Text senders: chat default 10; dm default every client. */
  senders?: number;
  /** Aggregate messages/s (churn: cycles/s); 0 = open loop. Default 100. */
  rate?: number;
  /** Default 10. */
  durationS?: number;
  /** Default 2. */
  warmupS?: number;
  /** Clients connected per second. Default 500. */
  ramp?: number;
  /** Default 100. */
  payloadBytes?: number;
  /** mixed's weights. Default chat 70, dm 20, voice 10. */
  mix?: LoadMix;
  /** group-voice's group size. Default 4. */
  groupSize?: number;
  /** Messages in flight per sender. Default: 100, fewer in big channels ({@link autoWindow}). */
  window?: number;
  /** Voice frame period, ms. Default 20. */
  frameMs?: number;
  /** A 16-bit PCM WAV file the talkers replay as Opus; receivers decode it. */
  voiceWav?: string;
  /** Measure this process's CPU and RSS as the server's (a remote server on this machine). */
  serverPid?: number;
  /** Seconds to connect and set up. Default 30. */
  setupTimeoutS?: number;
  /** Seconds to wait after the end for deliveries in flight. Default 5. */
  drainS?: number;
  /** Aborting ends the measured window now and finishes the run. */
  signal?: AbortSignal;
}

/** ramp: connecting; setup: joining channels, placing calls; warmup: load, not measured; measure; drain: waiting for the last deliveries. */
export type LoadPhase = 'ramp' | 'setup' | 'warmup' | 'measure' | 'drain';

/** Progress, once a second. Rates are over the last second. */
export interface LoadTick {
  phase: LoadPhase;
  /** Seconds since the run started. */
  elapsedS: number;
  /** Long-lived clients connected now. */
  connected: number;
  /** Messages (or churn cycles' commands) sent per second, warm-up included. */
  sendRate: number;
  /** Deliveries per second, warm-up included. */
  deliveryRate: number;
  /** Voice frames received per second. */
  frameRate: number;
  /** p99 delivery latency of the measured window so far, ms. */
  p99Ms: number;
  /** p99 voice frame latency of the measured window so far, ms. */
  voiceP99Ms: number;
  errors: number;
}

export interface LoadStart {
  scenario: LoadScenario;
  target: LoadTarget;
  clients: number;
}

export interface HarnessEvents {
  start: [LoadStart];
  tick: [LoadTick];
  done: [LoadResult];
}

/**
 * One load run.
 * @example
 * const h = new Harness({ scenario: 'chat', clients: 200, senders: 20, rate: 500, durationS: 5 });
 * h.on('tick', (t) => console.error(`${t.elapsedS}s ${t.deliveryRate}/s p99 ${t.p99Ms} ms`));
 * const result = await h.run();
 * console.log(formatReport(result));
 */
export class Harness extends EventEmitter<HarnessEvents> {
  readonly options: Readonly<LoadOptions>;
  #started = false;

  constructor(options: LoadOptions = {}) {
    super();
    this.options = { ...options };
    validate(this.options);
  }

  /** Runs once; rejects when the embedded server cannot start or the target is unusable. */
  async run(): Promise<LoadResult> {
    if (this.#started) throw new Error('a Harness runs once');
    this.#started = true;
    const result = await new LoadRun(this.options, (e, a) => this.emit(e, a as never)).run();
    this.emit('done', result);
    return result;
  }
}

/**
 * Runs a load test and resolves to its result.
 * @param opts see {@link LoadOptions}; every field has a default
 * @param onTick called once a second with progress
 * @example
 * const r = await run({ scenario: 'dm', clients: 100, rate: 1000, durationS: 5 });
 * console.log(r.latencyMs.p99, r.lost);
 */
export function run(opts: LoadOptions = {}, onTick?: (t: LoadTick) => void): Promise<LoadResult> {
  const h = new Harness(opts);
  if (onTick) h.on('tick', onTick);
  return h.run();
}

function validate(o: LoadOptions): void {
  const check = (name: string, v: number | undefined, min: number, integer = false): void => {
    if (v === undefined) return;
    if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
      throw new RangeError(`${name} must be ${integer ? 'a whole number' : 'a number'} >= ${min}, got ${v}`);
    }
  };
  check('clients', o.clients, 1, true);
  check('senders', o.senders, 0, true);
  check('rate', o.rate, 0);
  check('durationS', o.durationS, 0);
  check('warmupS', o.warmupS, 0);
  check('ramp', o.ramp, 0.001);
  check('payloadBytes', o.payloadBytes, 0, true);
  check('groupSize', o.groupSize, 2, true);
  check('window', o.window, 1, true);
  check('frameMs', o.frameMs, 1);
  check('setupTimeoutS', o.setupTimeoutS, 0.001);
  check('drainS', o.drainS, 0);
  const scenario = o.scenario ?? DEFAULT_LOAD_OPTIONS.scenario;
  if (o.mix && !(o.mix.chat >= 0 && o.mix.dm >= 0 && o.mix.voice >= 0 && o.mix.chat + o.mix.dm + o.mix.voice > 0)) {
    throw new RangeError('mix weights must be >= 0 and add up to more than 0');
  }
  const clients = o.clients ?? DEFAULT_LOAD_OPTIONS.clients;
  if ((scenario === 'dm' || scenario === 'voice' || scenario === 'group-voice') && clients < 2) {
    throw new RangeError(`${scenario} needs at least 2 clients`);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Random lowercase letters: they prefix every nick and channel of a run. */
function runTag(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += String.fromCharCode(0x61 + randomInt(26));
  return s;
}

class LoadRun {
  readonly #o: LoadOptions;
  readonly #emit: (event: keyof HarnessEvents, arg: unknown) => void;
  readonly #m = new LoadMetrics();
  readonly #clients: (LoadClient | undefined)[] = [];
  readonly #all = new Set<LoadClient>();
  #phase: LoadPhase = 'ramp';
  #server: EmbeddedServer | undefined;

  constructor(o: LoadOptions, emit: (event: keyof HarnessEvents, arg: unknown) => void) {
    this.#o = o;
    this.#emit = emit;
  }

  async run(): Promise<LoadResult> {
    const o = this.#o;
    const d = DEFAULT_LOAD_OPTIONS;
    const scenarioName = o.scenario ?? d.scenario;
    const clients = o.clients ?? d.clients;
    const durationS = o.durationS ?? d.durationS;
    const warmupS = o.warmupS ?? d.warmupS;
    const startedAt = new Date().toISOString();
    const t0 = performance.now();
    const voiceScenario = scenarioName === 'voice' || scenarioName === 'group-voice' || scenarioName === 'mixed';

    const target = await this.#startTarget(voiceScenario);
    try {
      const frameMs = o.frameMs ?? d.frameMs;
      const payloadBytes = o.payloadBytes ?? d.payloadBytes;
      const voicePayloads = o.voiceWav ? await readVoiceWav(o.voiceWav, frameMs) : [Buffer.alloc(payloadBytes, 0x55)];
      const ctx: LoadContext = {
        host: target.host,
        port: target.port,
        udpHost: target.host,
        udpPort: target.udpPort ?? target.port,
        tag: runTag(),
        m: this.#m,
        measureStartUs: Infinity,
        measureEndUs: Infinity,
        measureStartVoiceMs: Infinity,
        measureEndVoiceMs: Infinity,
        wake: () => {},
        newDecoder: o.voiceWav ? opusDecoder : undefined,
      };
      const env: ScenarioEnv = {
        ctx,
        rate: o.rate ?? d.rate,
        senders: o.senders,
        window: o.window,
        payloadBytes,
        groupSize: o.groupSize ?? d.groupSize,
        frameMs,
        ramp: o.ramp ?? d.ramp,
        setupTimeoutMs: (o.setupTimeoutS ?? d.setupTimeoutS) * 1000,
        voicePayloads,
        nick: (i) => `${ctx.tag}${i}`,
        connect: (nick) => this.#track(new LoadClient(ctx, nick)),
      };
      const scenario = createScenario(scenarioName, env, clients, o.mix ?? d.mix, d.senders);
      this.#emit('start', { scenario: scenarioName, target, clients } satisfies LoadStart);

      const sampler: ServerSampler | undefined = o.serverPid !== undefined ? pidSampler(o.serverPid) : this.#server?.sampler();
      let last = { t: performance.now(), sent: 0, recv: 0, frames: 0 };
      const ticker = setInterval(() => {
        sampler?.sample();
        const now = performance.now();
        const m = this.#m;
        const dt = (now - last.t) / 1000;
        const sentAll = m.sentAll + (scenarioName === 'churn' ? m.sent : 0);
        this.#emit('tick', {
          phase: this.#phase,
          elapsedS: round3((now - t0) / 1000),
          connected: this.#connected(),
          sendRate: Math.round((sentAll - last.sent) / dt),
          deliveryRate: Math.round((m.receivedAll - last.recv) / dt),
          frameRate: Math.round((m.voice.framesReceivedAll - last.frames) / dt),
          p99Ms: m.latency.percentileMs(99),
          voiceP99Ms: m.voice.latency.percentileMs(99),
          errors: m.errorsTotal,
        } satisfies LoadTick);
        last = { t: now, sent: sentAll, recv: m.receivedAll, frames: m.voice.framesReceivedAll };
      }, 1000);

      try {
        await this.#ramp(scenario, env);
        const ready = this.#clients.filter((c) => c !== undefined).length;

        // Warm-up, then the measured window; both timed from the start of the load.
        this.#phase = warmupS > 0 ? 'warmup' : 'measure';
        const loadStart = nowUs();
        ctx.measureStartUs = loadStart + warmupS * 1e6;
        ctx.measureEndUs = ctx.measureStartUs + durationS * 1e6;
        const voiceOffset = voiceNowMs() - loadStart / 1000;
        ctx.measureStartVoiceMs = ctx.measureStartUs / 1000 + voiceOffset;
        ctx.measureEndVoiceMs = ctx.measureEndUs / 1000 + voiceOffset;
        // Nobody got in (no server, every connection refused): report that at once.
        const idle = ready === 0 && scenarioName !== 'churn';
        if (idle) ctx.measureStartUs = ctx.measureEndUs = loadStart;
        else scenario.start(this.#clients);
        await this.#until(ctx.measureStartUs);
        this.#phase = 'measure';
        sampler?.begin();
        await this.#until(ctx.measureEndUs);
        const endUs = Math.min(nowUs(), ctx.measureEndUs);
        // Stopped early: shrink the window to what was measured.
        ctx.measureEndUs = endUs;
        ctx.measureEndVoiceMs = endUs / 1000 + voiceOffset;
        scenario.stop();
        const server = sampler?.end();
        this.#phase = 'drain';
        await this.#drain(scenario, (o.drainS ?? d.drainS) * 1000);
        await scenario.finish();

        const measuredS = Math.max(0, (endUs - ctx.measureStartUs) / 1e6);
        const relay = await this.#server?.relayCounters();
        const result = this.#result(scenarioName, target, { clients, ready, measuredS, warmupS, payloadBytes, rate: env.rate, startedAt, scenario, relay });
        if (server) result.server = server;
        result.hints = limitHints(result, DEFAULT_LIMITS.rateLimit);
        return result;
      } finally {
        clearInterval(ticker);
        await this.#closeClients();
      }
    } finally {
      await this.#server?.close();
    }
  }

  async #startTarget(voice: boolean): Promise<LoadTarget> {
    const o = this.#o;
    if (o.target) {
      return { kind: 'remote', host: o.target.host, port: o.target.port, ...(voice ? { udpPort: o.target.udpPort ?? o.target.port } : {}) };
    }
    const names = o.embedded?.plugins ?? BUILTIN_PLUGIN_NAMES;
    if (voice && !names.includes('voip')) throw new Error('voice scenarios need the voip plugin on the embedded server');
    const server = await startEmbedded({ plugins: names, limits: { ...EMBEDDED_LOAD_LIMITS, ...o.embedded?.limits }, thread: o.embedded?.thread });
    this.#server = server;
    return {
      kind: 'embedded',
      host: server.host,
      port: server.port,
      ...(voice && server.udpPort !== undefined ? { udpPort: server.udpPort } : {}),
      tuning: `${server.tuning}, ${server.thread === 'worker' ? 'in a worker thread' : 'on the main thread'}`,
      plugins: [...names],
    };
  }

  #track(c: LoadClient): LoadClient {
    this.#all.add(c);
    c.socket.once('close', () => this.#all.delete(c));
    return c;
  }

  #connected(): number {
    let n = 0;
    for (const c of this.#all) if (c.state === 'accepted') n++;
    return n;
  }

  /**
   * Connects the scenario's clients at the ramp rate, then sets them all up at
   * once. Setting up after connecting matters for channels: JOINs that arrive
   * together are answered together, so the server coalesces the O(clients²)
   * USERJOIN notices into one write per member per turn instead of one each.
   */
  async #ramp(scenario: Scenario, env: ScenarioEnv): Promise<void> {
    const n = scenario.clients;
    const m = this.#m;
    const conns: LoadClient[] = [];
    let connecting = 0;
    let settled = 0;
    let wake: () => void = () => {};
    const t0 = performance.now();
    const launch = (): void => {
      const due = Math.min(n, Math.floor(((performance.now() - t0) / 1000) * env.ramp) + 1);
      while (conns.length < due && connecting < MAX_CONNECTING) {
        const c = env.connect(env.nick(conns.length));
        conns.push(c);
        connecting++;
        let over = false;
        const settle = (): void => {
          if (over) return;
          over = true;
          connecting--;
          settled++;
          wake();
        };
        c.onAccept = settle;
        c.socket.once('close', settle);
        // A connection that never gets ACCEPT counts as a timeout, and is dropped.
        setTimeout(() => {
          if (!over) {
            bump(m.errors, 'TIMEOUT');
            c.destroy();
          }
        }, env.setupTimeoutMs).unref();
      }
    };
    const timer = setInterval(launch, 10);
    const signal = this.#o.signal;
    try {
      launch();
      while (settled < n && !signal?.aborted) {
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 100);
        });
        launch();
      }
    } finally {
      clearInterval(timer);
    }
    this.#phase = 'setup';
    const accepted = conns.map((c, i) => ({ c, i })).filter(({ c }) => c.state === 'accepted');
    const acceptedSet = new Set(accepted.map(({ i }) => i));
    const clients = this.#clients;
    clients.length = n;
    await Promise.all(
      accepted.map(({ c, i }) =>
        within(scenario.prepare(i, c, acceptedSet), env.setupTimeoutMs, 'setup').then(
          () => {
            if (c.state === 'accepted') clients[i] = c;
          },
          (err: Error) => {
            if (/^tim(ed )?out/.test(err.message)) bump(m.errors, 'TIMEOUT');
          },
        ),
      ),
    );
    // Clients that could not be set up take no part: drop them so they do not count as receivers.
    const ready = new Set(clients);
    for (const c of this.#all) if (!ready.has(c)) c.destroy();
  }

  /** Sleeps until `us` on the nowUs clock, or until aborted. */
  async #until(us: number): Promise<void> {
    const signal = this.#o.signal;
    while (nowUs() < us && !signal?.aborted) await sleep(Math.min(100, (us - nowUs()) / 1000));
  }

  /** Waits while deliveries are in flight: until none, no progress for 1 s, or `maxMs`. */
  async #drain(scenario: Scenario, maxMs: number): Promise<void> {
    const m = this.#m;
    const start = performance.now();
    let lastProgress = start;
    let seen = -1;
    while (scenario.inFlight() && performance.now() - start < maxMs) {
      const now = m.receivedAll + m.voice.framesReceivedAll + m.churn.cycles;
      if (now !== seen) {
        seen = now;
        lastProgress = performance.now();
      } else if (performance.now() - lastProgress > 1000) {
        break;
      }
      await sleep(20);
    }
  }

  async #closeClients(): Promise<void> {
    await Promise.all([...this.#all].map((c) => c.close(1000)));
  }

  #result(
    scenario: LoadScenario,
    target: LoadTarget,
    r: {
      clients: number;
      ready: number;
      measuredS: number;
      warmupS: number;
      payloadBytes: number;
      rate: number;
      startedAt: string;
      scenario: Scenario;
      relay: RelayCounters | undefined;
    },
  ): LoadResult {
    const relay = r.relay;
    const m = this.#m;
    const per = (n: number): number => (r.measuredS > 0 ? Math.round((n / r.measuredS) * 10) / 10 : 0);
    const voiceClients = this.#clients.filter((c): c is LoadClient & { voice: LoadVoice } => c?.voice !== undefined);
    const result: LoadResult = {
      scenario,
      target,
      clients: r.clients,
      clientsReady: r.ready,
      senders: r.scenario.senders,
      talkers: r.scenario.talkers,
      rate: r.rate,
      durationS: round3(r.measuredS),
      warmupS: r.warmupS,
      payloadBytes: r.payloadBytes,
      sent: m.sent,
      sendRate: per(m.sent),
      expected: m.expected,
      received: m.received,
      lost: Math.max(0, m.expected - m.received),
      duplicates: m.duplicates,
      outOfOrder: m.outOfOrder,
      deliveriesPerSec: per(m.received),
      latencyMs: m.latency.summary(),
      connectMs: m.connect.summary(),
      errors: { ...m.errors },
      errorsTotal: m.errorsTotal,
      disconnects: { ...m.disconnects },
      windowStalls: m.windowStalls,
      hints: [],
      startedAt: r.startedAt,
    };
    if (voiceClients.length > 0) {
      const v = m.voice;
      const jitters = voiceClients.flatMap((c) => c.voice.jitters());
      result.voice = {
        codec: this.#o.voiceWav ? 'opus' : 'filler',
        framesSent: v.framesSent,
        framesExpected: v.framesExpected,
        framesReceived: v.framesReceived,
        framesLost: Math.max(0, v.framesExpected - v.framesReceived),
        duplicates: v.duplicates,
        outOfOrder: v.outOfOrder,
        undecodable: v.undecodable,
        latencyMs: v.latency.summary(),
        jitterMs: jitters.length > 0 ? round3(jitters.reduce((a, b) => a + b, 0) / jitters.length) : 0,
        jitterMaxMs: jitters.length > 0 ? round3(Math.max(...jitters)) : 0,
      };
      if (relay) result.voice.relay = relay;
    }
    if (scenario === 'churn') {
      result.churn = { cycles: m.churn.cycles, failed: m.churn.failed, cyclesPerSec: per(m.churn.cycles), cycleMs: m.churn.cycle.summary() };
    }
    return result;
  }
}
