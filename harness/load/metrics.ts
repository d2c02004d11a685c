/**
 * What a load run counts: HDR histograms of latencies (recorded in microseconds,
 * reported in milliseconds) and plain counters. One `LoadMetrics` per run, shared
 * by every load client; the hot paths only increment fields.
 */
import * as hdr from 'hdr-histogram-js';

/** Percentiles of one histogram, in milliseconds. */
export interface LatencySummaryMs {
  p50: number;
  p90: number;
  p97_5: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  /** Values recorded. */
  count: number;
}

/** Longest latency tracked, µs (~35 min); larger values are clamped. */
const MAX_US = 0x7fff_ffff;
/** Values below this are counted exactly; above, 1024 sub-buckets per power of two. */
const EXACT = 2048;
const SUB = 1024;
const SLOTS = EXACT + (31 - 11) * SUB;

/**
 * An HDR histogram (3 significant digits) of durations recorded in µs.
 * Recording first counts into a flat array with the same bucket layout as
 * hdr-histogram-js at 3 digits (found with `Math.clz32`, where the library
 * uses `Math.log2` per value, the hot spot of a run with millions of
 * deliveries), and folds it into the HDR histogram when read: lossless.
 */
export class LatencyHistogram {
  readonly #h = hdr.build({ bitBucketSize: 64, autoResize: true, lowestDiscernibleValue: 1, numberOfSignificantValueDigits: 3 });
  readonly #slots = new Uint32Array(SLOTS);
  #pending = 0;
  #count = 0;
  #sum = 0;
  #max = 0;

  /** Records one duration in µs; negatives (clock skew) count as 0. */
  recordUs(us: number): void {
    const v = us <= 0 ? 0 : us >= MAX_US ? MAX_US : Math.round(us);
    if (v < EXACT) {
      this.#slots[v]!++;
    } else {
      const shift = 31 - Math.clz32(v) - 10; // keeps the top 11 bits: 1024..2047
      this.#slots[EXACT + (shift - 1) * SUB + ((v >>> shift) - SUB)]!++;
    }
    this.#pending++;
    this.#count++;
    this.#sum += v;
    if (v > this.#max) this.#max = v;
  }

  get count(): number {
    return this.#count;
  }

  /** Percentile `p` (0..100) in ms; 0 when empty. */
  percentileMs(p: number): number {
    return this.#count === 0 ? 0 : round3(this.#hdr().getValueAtPercentile(p) / 1000);
  }

  summary(): LatencySummaryMs {
    if (this.#count === 0) return { p50: 0, p90: 0, p97_5: 0, p99: 0, p999: 0, max: 0, mean: 0, count: 0 };
    const h = this.#hdr();
    const ms = (us: number): number => round3(us / 1000);
    return {
      p50: ms(h.getValueAtPercentile(50)),
      p90: ms(h.getValueAtPercentile(90)),
      p97_5: ms(h.getValueAtPercentile(97.5)),
      p99: ms(h.getValueAtPercentile(99)),
      p999: ms(h.getValueAtPercentile(99.9)),
      max: ms(this.#max),
      mean: ms(this.#sum / this.#count),
      count: this.#count,
    };
  }

  /** The HDR histogram with every recorded value folded in. */
  #hdr(): hdr.Histogram {
    if (this.#pending > 0) {
      const slots = this.#slots;
      for (let i = 0; i < SLOTS; i++) {
        const n = slots[i]!;
        if (n === 0) continue;
        // The lowest value of the slot: HDR puts it in the same bucket.
        const value = i < EXACT ? i : (SUB + ((i - EXACT) % SUB)) * 2 ** (Math.floor((i - EXACT) / SUB) + 1);
        this.#h.recordValueWithCount(value, n);
        slots[i] = 0;
      }
      this.#pending = 0;
    }
    return this.#h;
  }
}

/** Adds 1 to `counts[key]`. */
export function bump(counts: Record<string, number>, key: string, by = 1): void {
  counts[key] = (counts[key] ?? 0) + by;
}

export function round3(v: number): number {
  return Math.round(v * 1000) / 1000;
}

/** avg/stdev/min/max of once-a-second samples (autocannon's Req/Sec table); `samples` 0: none taken. */
export interface RateStats {
  avg: number;
  stdev: number;
  min: number;
  max: number;
  samples: number;
}

/** Statistics of per-second counts; population standard deviation. */
export function rateStats(values: readonly number[]): RateStats {
  const n = values.length;
  if (n === 0) return { avg: 0, stdev: 0, min: 0, max: 0, samples: 0 };
  const avg = values.reduce((a, b) => a + b, 0) / n;
  const variance = values.reduce((a, v) => a + (v - avg) ** 2, 0) / n;
  return { avg: round3(avg), stdev: round3(Math.sqrt(variance)), min: Math.min(...values), max: Math.max(...values), samples: n };
}

/** Counters of one run. Deliveries count only messages sent inside the measured window. */
export class LoadMetrics {
  /** Text messages sent in the measured window. */
  sent = 0;
  /** Deliveries those messages should cause (recipients at send time). */
  expected = 0;
  /** Distinct deliveries of measured messages. */
  received = 0;
  duplicates = 0;
  /** Deliveries that arrived after a later message of the same sender. */
  outOfOrder = 0;
  /** Text messages sent in all (warm-up included), for progress. */
  sentAll = 0;
  /** Deliveries of any message (warm-up included), for progress. */
  receivedAll = 0;
  /** MSG lines that carry no harness header, or a sender this receiver does not expect. */
  stray = 0;
  /** Times a sender held a message because its window was full. */
  windowStalls = 0;
  readonly latency = new LatencyHistogram();
  /** From `connect()` to `ACCEPT`. */
  readonly connect = new LatencyHistogram();

  readonly voice = {
    framesSent: 0,
    framesExpected: 0,
    framesReceived: 0,
    duplicates: 0,
    outOfOrder: 0,
    /** Frames with --voice-wav whose payload Opus could not decode. */
    undecodable: 0,
    /** Frames of any time, for progress. */
    framesSentAll: 0,
    framesReceivedAll: 0,
    /** Empty-payload binding frames sent (whole run); the relay consumes them without relaying. */
    bindingSent: 0,
    latency: new LatencyHistogram(),
  };

  readonly churn = {
    /** Measured cycles that completed: connect, JOIN, LEAVE, DISCONNECT, close. */
    cycles: 0,
    /** Measured cycles that ended in an error or timeout. */
    failed: 0,
    /** One whole cycle. */
    cycle: new LatencyHistogram(),
    /** Connections that reached ACCEPT, and connections closed, of any time (progress). */
    connectsAll: 0,
    disconnectsAll: 0,
  };

  /** `ERROR <CODE>` lines, refused connections (`REFUSED`), socket errors (their errno code). */
  readonly errors: Record<string, number> = {};
  /** Connections the server closed, by the `DISCONNECT: <reason>` text (or how they closed). */
  readonly disconnects: Record<string, number> = {};

  get errorsTotal(): number {
    let n = 0;
    for (const k in this.errors) n += this.errors[k]!;
    return n;
  }
}
