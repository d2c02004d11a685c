/**
 * One load run, phase by phase: start the target, ramp and set up the clients
 * (ramp.ts), warm up, measure, drain, then build the result (load-result.ts).
 * `Harness` (harness.ts) runs one and re-emits what it reports.
 */
import { randomInt } from 'node:crypto';
import { DEFAULT_LOAD_OPTIONS } from './defaults.js';
import type { EmbeddedServer } from './embedded-server.js';
import { LoadClient } from './load-client.js';
import { nowUs, voiceNowMs, type LoadContext } from './load-context.js';
import { withDefaults, type LoadOptions, type ResolvedLoadOptions } from './load-options.js';
import { loadResult } from './load-result.js';
import { startTarget } from './load-target.js';
import { LoadMetrics } from './metrics.js';
import { opusDecoder, readVoiceWav } from '../client/opus.js';
import { ProgressMeter, type HarnessEvents, type LoadPhase, type LoadStart } from './progress.js';
import { rampUp } from './ramp.js';
import type { LoadResult, LoadTarget } from './report.js';
import { createScenario, type Scenario, type ScenarioEnv } from './scenarios/index.js';
import { pidSampler, type ServerSampler } from './server-stats.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.max(0, ms)));

/** Random lowercase letters: they prefix every nick and channel of a run. */
function runTag(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += String.fromCharCode(0x61 + randomInt(26));
  return s;
}

export class LoadRun {
  readonly #o: ResolvedLoadOptions;
  readonly #emit: (event: keyof HarnessEvents, arg: unknown) => void;
  readonly #m = new LoadMetrics();
  /** The scenario's long-lived clients once set up (undefined: not set up). */
  #clients: readonly (LoadClient | undefined)[] = [];
  /** Every open connection of the run. */
  readonly #all = new Set<LoadClient>();
  #phase: LoadPhase = 'ramp';
  #server: EmbeddedServer | undefined;
  /** Progress ticks taken in the measured phase: the per-second samples of the result. */
  readonly #perSecond = { sent: [] as number[], delivered: [] as number[], frames: [] as number[] };

  constructor(o: LoadOptions, emit: (event: keyof HarnessEvents, arg: unknown) => void) {
    this.#o = withDefaults(o);
    this.#emit = emit;
  }

  async run(): Promise<LoadResult> {
    const o = this.#o;
    const startedAt = new Date().toISOString();
    const t0 = performance.now();
    const voiceScenario = o.scenario === 'voice' || o.scenario === 'group-voice' || o.scenario === 'mixed';

    const { target, server } = await startTarget(o, voiceScenario);
    this.#server = server;
    try {
      const voicePayloads = o.voiceWav ? await readVoiceWav(o.voiceWav, o.frameMs) : [Buffer.alloc(o.payloadBytes, 0x55)];
      const env = this.#env(target, voicePayloads);
      const scenario = createScenario(o.scenario, env, o.clients, o.mix, DEFAULT_LOAD_OPTIONS.senders);
      this.#emit('start', { scenario: o.scenario, target, clients: o.clients } satisfies LoadStart);

      const sampler: ServerSampler | undefined = o.serverPid !== undefined ? pidSampler(o.serverPid) : this.#server?.sampler();
      const meter = new ProgressMeter(this.#m, { t0, churn: o.scenario === 'churn', connected: () => this.#connected() });
      const ticker = setInterval(() => {
        sampler?.sample();
        const tick = meter.tick(this.#phase);
        if (tick.phase === 'measure') {
          this.#perSecond.sent.push(tick.sendRate);
          this.#perSecond.delivered.push(tick.deliveryRate);
          this.#perSecond.frames.push(tick.frameRate);
        }
        this.#emit('tick', tick);
      }, 1000);

      try {
        return await this.#load(scenario, env, { target, sampler, startedAt });
      } finally {
        clearInterval(ticker);
        await this.#closeClients();
      }
    } finally {
      await this.#server?.close();
    }
  }

  /** What the scenario's clients share: the target, the counters, the measured window (set when the load starts). */
  #env(target: LoadTarget, voicePayloads: Buffer[]): ScenarioEnv {
    const o = this.#o;
    const nodes = (target.nodes ?? [target]).map((n) => ({ host: n.host, port: n.port, udpHost: n.host, udpPort: n.udpPort ?? n.port }));
    let next = 0;
    const ctx: LoadContext = {
      nodes,
      nextNode: () => nodes[next++ % nodes.length]!,
      transport: o.transport,
      tag: runTag(),
      m: this.#m,
      measureStartUs: Infinity,
      measureEndUs: Infinity,
      measureStartVoiceMs: Infinity,
      measureEndVoiceMs: Infinity,
      wake: () => {},
      newDecoder: o.voiceWav ? opusDecoder : undefined,
    };
    return {
      ctx,
      rate: o.rate,
      senders: o.senders,
      window: o.window,
      payloadBytes: o.payloadBytes,
      groupSize: o.groupSize,
      frameMs: o.frameMs,
      ramp: o.ramp,
      setupTimeoutMs: o.setupTimeoutS * 1000,
      voicePayloads,
      nick: (i) => `${ctx.tag}${i}`,
      connect: (nick) => this.#track(new LoadClient(ctx, nick)),
    };
  }

  /** The phases from the ramp to the drain, then the result. */
  async #load(scenario: Scenario, env: ScenarioEnv, run: { target: LoadTarget; sampler: ServerSampler | undefined; startedAt: string }): Promise<LoadResult> {
    const o = this.#o;
    const ctx = env.ctx;
    const sampler = run.sampler;
    this.#clients = await rampUp(scenario, env, { m: this.#m, signal: o.signal, all: this.#all, onSetup: () => (this.#phase = 'setup') });
    const ready = this.#clients.filter((c) => c !== undefined).length;

    // Warm-up, then the measured window; both timed from the start of the load.
    this.#phase = o.warmupS > 0 ? 'warmup' : 'measure';
    const loadStart = nowUs();
    ctx.measureStartUs = loadStart + o.warmupS * 1e6;
    ctx.measureEndUs = ctx.measureStartUs + o.durationS * 1e6;
    const voiceOffset = voiceNowMs() - loadStart / 1000;
    ctx.measureStartVoiceMs = ctx.measureStartUs / 1000 + voiceOffset;
    ctx.measureEndVoiceMs = ctx.measureEndUs / 1000 + voiceOffset;
    // Nobody got in (no server, every connection refused): report that at once.
    const idle = ready === 0 && o.scenario !== 'churn';
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
    await this.#drain(scenario, o.drainS * 1000);
    await scenario.finish();

    const measuredS = Math.max(0, (endUs - ctx.measureStartUs) / 1e6);
    const relay = await this.#server?.relayCounters();
    return loadResult(this.#m, this.#clients, {
      scenarioName: o.scenario,
      transport: o.transport,
      target: run.target,
      clients: o.clients,
      ready,
      measuredS,
      warmupS: o.warmupS,
      payloadBytes: o.payloadBytes,
      rate: env.rate,
      startedAt: run.startedAt,
      scenario,
      codec: o.voiceWav ? 'opus' : 'filler',
      relay,
      server,
      perSecond: this.#perSecond,
    });
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
}
