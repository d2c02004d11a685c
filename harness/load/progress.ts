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

/** Turns a run's counters into ticks; rates are over the time since the previous tick (or since it was made). */
export class ProgressMeter {
  readonly #m: LoadMetrics;
  /** When the run started (`performance.now()`). */
  readonly #t0: number;
  /** Churn counts its JOIN/LEAVE commands (`m.sent`) as sent. */
  readonly #churn: boolean;
  readonly #connected: () => number;
  #last = { t: performance.now(), sent: 0, recv: 0, frames: 0 };

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
      p99Ms: m.latency.percentileMs(99),
      voiceP99Ms: m.voice.latency.percentileMs(99),
      errors: m.errorsTotal,
    };
    this.#last = { t: now, sent: sentAll, recv: m.receivedAll, frames: m.voice.framesReceivedAll };
    return tick;
  }
}
