/**
 * What a `Harness` emits while it runs: `start`, a `tick` of progress once a
 * second and `done`; and `ProgressMeter`, which computes each tick's rates over
 * the second since the one before.
 */
import type { LoadScenario } from './defaults.js';
import { round3, type LoadMetrics } from './metrics.js';
import type { LoadResult, LoadTarget } from './report.js';

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
  /** p99 delivery latency of the measured window so far, ms; null before the first measured delivery (warm-up). */
  p99Ms: number | null;
  /** p99 voice frame latency of the measured window so far, ms; null before the first measured frame. */
  voiceP99Ms: number | null;
  errors: number;
  /** Churn only: connections accepted and closed per second (what churn does). */
  churn?: { connectRate: number; disconnectRate: number };
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

/** Turns a run's counters into ticks; rates are over the time since the previous tick (or since it was made). */
export class ProgressMeter {
  readonly #m: LoadMetrics;
  /** When the run started (`performance.now()`). */
  readonly #t0: number;
  /** Churn counts its JOIN/LEAVE commands (`m.sent`) as sent. */
  readonly #churn: boolean;
  readonly #connected: () => number;
  #last = { t: performance.now(), sent: 0, recv: 0, frames: 0, connects: 0, disconnects: 0 };

  constructor(m: LoadMetrics, opts: { t0: number; churn: boolean; connected: () => number }) {
    this.#m = m;
    this.#t0 = opts.t0;
    this.#churn = opts.churn;
    this.#connected = opts.connected;
  }

  /** The progress now, in `phase`. */
  tick(phase: LoadPhase): LoadTick {
    const now = performance.now();
    const m = this.#m;
    const last = this.#last;
    const dt = (now - last.t) / 1000;
    const sentAll = m.sentAll + (this.#churn ? m.sent : 0);
    const tick: LoadTick = {
      phase,
      elapsedS: round3((now - this.#t0) / 1000),
      connected: this.#connected(),
      sendRate: Math.round((sentAll - last.sent) / dt),
      deliveryRate: Math.round((m.receivedAll - last.recv) / dt),
      frameRate: Math.round((m.voice.framesReceivedAll - last.frames) / dt),
      p99Ms: m.latency.count > 0 ? m.latency.percentileMs(99) : null,
      voiceP99Ms: m.voice.latency.count > 0 ? m.voice.latency.percentileMs(99) : null,
      errors: m.errorsTotal,
    };
    const c = m.churn;
    if (this.#churn) {
      tick.churn = { connectRate: Math.round((c.connectsAll - last.connects) / dt), disconnectRate: Math.round((c.disconnectsAll - last.disconnects) / dt) };
    }
    this.#last = { t: now, sent: sentAll, recv: m.receivedAll, frames: m.voice.framesReceivedAll, connects: c.connectsAll, disconnects: c.disconnectsAll };
    return tick;
  }
}

function n(v: number): string {
  return Math.round(v).toLocaleString('en-US');
}

/** A latency in ms, `-` when nothing was measured yet. */
function ms(v: number | null): string {
  return v === null ? '-' : v >= 10 ? n(v) : v.toFixed(2);
}

/** One progress line, as `parley load` prints it. Pure. */
export function formatTick(t: LoadTick): string {
  let load: string;
  if (t.churn) {
    load = `${n(t.churn.connectRate)} connects/s  ${n(t.churn.disconnectRate)} disconnects/s  ${n(t.deliveryRate)} notices/s  p99 ${ms(t.p99Ms)} ms`;
  } else {
    const text = `${n(t.sendRate)} sent/s  ${n(t.deliveryRate)} deliveries/s  p99 ${ms(t.p99Ms)} ms`;
    const voice = `${n(t.frameRate)} frames/s  voice p99 ${ms(t.voiceP99Ms)} ms`;
    const hasVoice = t.frameRate > 0 || t.voiceP99Ms !== null;
    load = hasVoice ? (t.sendRate > 0 || t.deliveryRate > 0 || t.p99Ms !== null ? `${text}  ${voice}` : voice) : text;
  }
  return `[${t.phase}] ${t.elapsedS.toFixed(1)}s  ${n(t.connected)} connected  ${load}  ${n(t.errors)} errors`;
}
