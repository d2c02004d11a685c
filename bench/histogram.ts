// Latency statistics without dependencies.
//
// LogHistogram: fixed-size log-linear buckets over non-negative integers (we record
// microseconds), 64 sub-buckets per power of two above 128, so any reported
// percentile is within ~1.6% of the true value (exact below 128). O(1) record,
// ~13 KB of memory, mergeable.
//
// percentileSorted(): exact percentile (nearest rank) of a sorted Float64Array, for
// small sample sets such as per-run results.

const LINEAR = 128; // values below this get one bucket each
const SUB = 64; // sub-buckets per power of two above LINEAR
const MAX_VALUE = 0x7fffffff; // ~35 minutes in microseconds; larger values are clamped
const BUCKETS = LINEAR + (31 - 7) * SUB;

function bucketOf(v: number): number {
  if (v < LINEAR) return v;
  const e = 31 - Math.clz32(v); // >= 7
  const shift = e - 6;
  return LINEAR + (shift - 1) * SUB + ((v >>> shift) - SUB);
}

function bucketMid(idx: number): number {
  if (idx < LINEAR) return idx;
  const k = idx - LINEAR;
  const shift = Math.floor(k / SUB) + 1;
  const top = SUB + (k % SUB);
  const width = 2 ** shift;
  return top * width + (width - 1) / 2;
}

export class LogHistogram {
  private readonly counts = new Float64Array(BUCKETS);
  count = 0;
  sum = 0;
  min = Infinity;
  max = -Infinity;

  record(value: number): void {
    let v = Math.round(value);
    if (!(v >= 0)) v = 0; // also catches NaN
    if (v > MAX_VALUE) v = MAX_VALUE;
    this.counts[bucketOf(v)]!++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  merge(other: LogHistogram): void {
    for (let i = 0; i < BUCKETS; i++) this.counts[i]! += other.counts[i]!;
    this.count += other.count;
    this.sum += other.sum;
    if (other.min < this.min) this.min = other.min;
    if (other.max > this.max) this.max = other.max;
  }

  /** p in [0, 100]; NaN when empty. The exact max is returned for p = 100. */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    if (p >= 100) return this.max;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(Math.max(bucketMid(i), this.min), this.max);
    }
    return this.max;
  }

  mean(): number {
    return this.count === 0 ? NaN : this.sum / this.count;
  }
}

/** Nearest-rank percentile of an ascending-sorted array; NaN when empty. */
export function percentileSorted(sorted: Float64Array, p: number): number {
  const n = sorted.length;
  if (n === 0) return NaN;
  if (p <= 0) return sorted[0]!;
  if (p >= 100) return sorted[n - 1]!;
  const rank = Math.ceil((p / 100) * n);
  return sorted[Math.min(n, Math.max(1, rank)) - 1]!;
}

export function sortedCopy(values: ArrayLike<number>): Float64Array {
  const a = Float64Array.from(values);
  a.sort();
  return a;
}
