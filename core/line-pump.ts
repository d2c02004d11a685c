/**
 * The input side of a connection, independent of the socket type: framing with
 * {@link LineSplitter}, the rate limit with {@link TokenBucket} (fan-out cost
 * included: what a command made the server write to others is charged as extra
 * tokens), and holding lines while the kernel awaits (authentication). The
 * transport feeds bytes and pauses/resumes its source when told to.
 */
import { LineSplitter, LINE_TOO_LONG } from './line-splitter.js';
import { TokenBucket } from './rate-limiter.js';
import type { Limits } from './defaults.js';
import type { FanoutMeter, Flushable } from './write-batcher.js';

export interface LineHandlers {
  /** A complete line. Returning a promise holds further lines until it settles. */
  line(line: Buffer): void | Promise<void>;
  tooLong(): void;
}

/** What the pump needs from the byte source. */
export interface PausableSource {
  pause(): void;
  resume(): void;
  /** True once the transport closed: the pump stops. */
  readonly closed: boolean;
}

/** Fan-out metering: the shared meter, and the connection whose writes are its own (not charged). */
export interface PumpMeter {
  readonly meter: FanoutMeter;
  readonly self: Flushable;
}

/** Reading pauses while this many bytes wait to be parsed (throttled or held). Default 64 KiB. */
export const INPUT_HIGH_WATER = 64 * 1024;

export type PumpLimits = Pick<Limits, 'maxLineBytes' | 'rateLimit' | 'rateBurst'> &
  Partial<Pick<Limits, 'fanoutMaxDelayMs' | 'fanoutRecipientsPerCommand' | 'fanoutBytesPerCommand'>>;

export class LinePump {
  readonly #splitter: LineSplitter;
  readonly #bucket: TokenBucket;
  #held = false;
  #paused = false;
  #throttle: NodeJS.Timeout | undefined;
  #heldLine: Buffer | undefined;
  #endRequested = false;

  /**
   * @param metering when given, every line runs between `meter.begin(self)` and
   *   `meter.end()`, and what it wrote to others is charged to this client's bucket
   * @param ended called once every line was handed over after {@link requestEnd}
   */
  constructor(
    private readonly limits: PumpLimits,
    private readonly source: PausableSource,
    private readonly handlers: LineHandlers,
    private readonly metering?: PumpMeter,
    private readonly ended?: () => void,
  ) {
    this.#splitter = new LineSplitter(limits.maxLineBytes);
    // The debt cap: fan-out may delay a client's next command by at most fanoutMaxDelayMs.
    const maxDebt = limits.fanoutMaxDelayMs === undefined ? undefined : (limits.rateLimit * limits.fanoutMaxDelayMs) / 1000;
    this.#bucket = new TokenBucket(limits.rateLimit, limits.rateBurst, undefined, maxDebt);
  }

  /** Bytes received and not yet handed to the kernel. */
  get bufferedBytes(): number {
    return this.#splitter.bufferedBytes;
  }

  /** True while the pump waits (rate limit or a held line). */
  get waiting(): boolean {
    return this.#held || this.#throttle !== undefined;
  }

  /** Appends received bytes (which the caller must not modify afterwards) and runs the lines. */
  push(chunk: Buffer): void {
    this.#splitter.push(chunk);
    if (this.waiting) {
      if (this.#splitter.bufferedBytes > INPUT_HIGH_WATER) this.#pause();
      return;
    }
    this.pump();
  }

  /** The client half-closed: hand over what it sent, then call `ended`. */
  requestEnd(): void {
    this.#endRequested = true;
    this.pump();
  }

  /** Hands buffered lines to the kernel until none is left, the rate limit bites, or a line holds. */
  pump(): void {
    if (this.waiting || this.source.closed) return;
    const handlers = this.handlers;
    const metering = this.metering;
    for (;;) {
      const line = this.#heldLine ?? this.#splitter.shift();
      this.#heldLine = undefined;
      if (line === undefined) break;
      const wait = this.#bucket.take();
      if (wait > 0) {
        // Copy: the splitter may reuse its buffer before the throttle ends.
        this.#heldLine = line === LINE_TOO_LONG ? undefined : Buffer.from(line);
        if (line === LINE_TOO_LONG) handlers.tooLong();
        this.#pause();
        this.#throttle = setTimeout(() => {
          this.#throttle = undefined;
          this.pump();
        }, wait);
        return;
      }
      if (line === LINE_TOO_LONG) {
        handlers.tooLong();
        continue;
      }
      let r: void | Promise<void>;
      if (metering === undefined) r = handlers.line(line);
      else {
        const meter = metering.meter;
        meter.begin(metering.self);
        try {
          r = handlers.line(line);
        } finally {
          meter.end();
        }
        this.#charge(meter.recipients, meter.bytes);
      }
      if (this.source.closed) return;
      if (r !== undefined) {
        this.#held = true;
        if (this.#splitter.bufferedBytes > INPUT_HIGH_WATER) this.#pause();
        r.finally(() => {
          this.#held = false;
          this.pump();
        });
        return;
      }
    }
    if (this.#endRequested) {
      this.ended?.();
      return;
    }
    if (this.#paused) {
      this.#paused = false;
      this.source.resume();
    }
  }

  /** Stops the throttle timer (the transport closed). */
  stop(): void {
    if (this.#throttle) clearTimeout(this.#throttle);
    this.#throttle = undefined;
  }

  /** Fan-out cost: recipients reached and bytes written to others, as extra tokens. */
  #charge(recipients: number, bytes: number): void {
    if (recipients === 0) return;
    const r = this.limits.fanoutRecipientsPerCommand ?? 0;
    const b = this.limits.fanoutBytesPerCommand ?? 0;
    this.#bucket.charge((r > 0 ? recipients / r : 0) + (b > 0 ? bytes / b : 0));
  }

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.source.pause();
  }
}
