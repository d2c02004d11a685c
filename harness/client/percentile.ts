/** Percentiles of latency samples, with bounded memory. Pure apart from the sampler's state. */

/**
 * Nearest-rank percentile of ascending values: the smallest value with at least
 * `p` percent of the values at or below it.
 * @param sorted values in ascending order
 * @param p 0 to 100
 * @returns NaN when there are no values
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be within 0..100, got ${p}`);
  const rank = Math.max(1, Math.ceil((p / 100) * n));
  return sorted[rank - 1]!;
}

export interface LatencySummary {
  p50: number;
  p99: number;
  max: number;
  /** Samples recorded (not only those kept). */
  count: number;
}

/**
 * Records samples; past `capacity` it keeps a uniform random subset (reservoir
 * sampling, seeded so that runs repeat), while `max` and `count` stay exact.
 */
export class LatencySampler {
  readonly #capacity: number;
  readonly #samples: number[] = [];
  #count = 0;
  #max = -Infinity;
  #rng: number;

  /** @param capacity samples kept for percentiles (default 100 000) */
  constructor(capacity = 100_000, seed = 0x9e3779b9) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.#capacity = capacity;
    this.#rng = seed >>> 0 || 1;
  }

  record(value: number): void {
    this.#count++;
    if (value > this.#max) this.#max = value;
    if (this.#samples.length < this.#capacity) {
      this.#samples.push(value);
      return;
    }
    const j = Math.floor(this.#random() * this.#count);
    if (j < this.#capacity) this.#samples[j] = value;
  }

  /** Adds every sample of `other` (for totals over several senders). */
  merge(other: LatencySampler): void {
    for (const v of other.#samples) this.record(v);
    // Counts and max of samples the other sampler dropped still count.
    this.#count += other.#count - other.#samples.length;
    if (other.#max > this.#max) this.#max = other.#max;
  }

  /** p50, p99 and max; all 0 when nothing was recorded. */
  summary(): LatencySummary {
    if (this.#count === 0) return { p50: 0, p99: 0, max: 0, count: 0 };
    const sorted = Float64Array.from(this.#samples).sort();
    return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), max: this.#max, count: this.#count };
  }

  /** xorshift32: deterministic, good enough to pick reservoir slots. */
  #random(): number {
    let x = this.#rng;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#rng = x >>> 0;
    return this.#rng / 0x1_0000_0000;
  }
}
