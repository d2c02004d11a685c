/**
 * RFC 3550 (section 6.4.1) interarrival jitter, in the caller's time unit.
 * Pure: feed it (arrival, sent) pairs in arrival order.
 */

/** One sample: when the packet arrived (receiver clock) and its timestamp (sender clock). */
export interface TransitSample {
  arrival: number;
  sent: number;
}

/** Running jitter estimate of one sender: J += (|D| - J) / 16. */
export class JitterEstimator {
  #jitter = 0;
  #prevTransit: number | undefined;

  /**
   * Adds one packet, in arrival order.
   * @returns the jitter estimate after it
   */
  update(arrival: number, sent: number): number {
    const transit = arrival - sent;
    if (this.#prevTransit !== undefined) {
      // D(i,j) = (Rj - Ri) - (Sj - Si), which is the difference of the two transit times.
      const d = Math.abs(transit - this.#prevTransit);
      this.#jitter += (d - this.#jitter) / 16;
    }
    this.#prevTransit = transit;
    return this.#jitter;
  }

  /** The current estimate (0 before the second packet). */
  get value(): number {
    return this.#jitter;
  }
}

/** Jitter after a whole sequence of samples, in arrival order. */
export function interarrivalJitter(samples: Iterable<TransitSample>): number {
  const est = new JitterEstimator();
  for (const s of samples) est.update(s.arrival, s.sent);
  return est.value;
}
