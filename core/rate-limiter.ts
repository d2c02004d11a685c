/**
 * Token bucket: `rate` tokens per second, at most `burst` held. A rate of 0 never limits.
 *
 * A command takes one token to start ({@link take}); what it then cost the server
 * is charged afterwards ({@link charge}) and may leave the bucket in debt, as IRC's
 * fakelag does: the command itself is never delayed, the sender's next one is.
 */
export class TokenBucket {
  #tokens: number;
  #last: number;
  constructor(
    private readonly rate: number,
    private readonly burst: number,
    now = performance.now(),
    /** Deepest debt, in tokens (bounds the delay one charge can cause). */
    private readonly maxDebt = Infinity,
  ) {
    this.#tokens = burst;
    this.#last = now;
  }

  /** Takes one token; returns 0 on success, else the milliseconds until one is available. */
  take(now = performance.now()): number {
    if (this.rate <= 0) return 0;
    this.#refill(now);
    if (this.#tokens >= 1) {
      this.#tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - this.#tokens) * 1000) / this.rate);
  }

  /** Charges `tokens` more (fractions allowed); the balance may go negative down to `-maxDebt`. */
  charge(tokens: number, now = performance.now()): void {
    if (this.rate <= 0 || !(tokens > 0)) return;
    this.#refill(now);
    this.#tokens = Math.max(-this.maxDebt, this.#tokens - tokens);
  }

  /** Tokens held now (negative: in debt). */
  available(now = performance.now()): number {
    this.#refill(now);
    return this.#tokens;
  }

  #refill(now: number): void {
    const refill = ((now - this.#last) * this.rate) / 1000;
    this.#tokens = Math.min(this.burst, this.#tokens + refill);
    this.#last = now;
  }
}
