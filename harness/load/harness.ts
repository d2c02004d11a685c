/**
 * The load harness as a library (after autocannon): `run(opts)` resolves to a
 * `LoadResult`; a `Harness` also emits `start`, `tick` (once a second) and
 * `done`. `parley load` only renders what it emits.
 */
import { EventEmitter } from 'node:events';
import { validateLoadOptions, type LoadOptions } from './load-options.js';
import { LoadRun } from './load-run.js';
import type { HarnessEvents, LoadTick } from './progress.js';
import type { LoadResult } from './report.js';

export { formatReport, checkThresholds, thresholdChecks, limitHints, totalLoss } from './report.js';
export type { LoadResult, LoadThresholds, LoadTarget, VoiceResult, ChurnResult, ThresholdCheck, RelayFrameCounts, RateStats } from './report.js';
export { formatTick } from './progress.js';
export { DEFAULT_LOAD_OPTIONS, LOAD_SCENARIOS, EMBEDDED_LOAD_LIMITS, type LoadScenario, type LoadMix } from './defaults.js';
export type { LatencySummaryMs } from './metrics.js';
export type { ServerStats } from './server-stats.js';
export type { EmbeddedOptions, LoadOptions } from './load-options.js';
export type { LoadPhase, LoadTick, LoadStart, HarnessEvents } from './progress.js';

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
    validateLoadOptions(this.options);
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
