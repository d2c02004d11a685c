/**
 * Token bucket: `rate` tokens per second, at most `burst` held. A rate of 0 never limits.
 */
export class TokenBucket {
  #tokens: number;
  #last: number;
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now = performance.now(),
  ) {
    this.#tokens = burst;
    this.#last = now;
  }

  /** Takes one token; returns 0 on success, else the milliseconds until one is available. */
  take(now = performance.now()): number {
    if (this.rate <= 0) return 0;
    const refill = ((now - this.#last) * this.rate) / 1000;
    this.#tokens = Math.min(this.burst, this.#tokens + refill);
    this.#last = now;
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) * 1000) / this.rate);
  }
}
