/**
 * The input side of a connection, independent of the socket type: framing with
 * {@link LineSplitter}, the rate limit with {@link TokenBucket}, and holding
 * lines while the kernel awaits (authentication). The transport feeds bytes and
 * pauses/resumes its source when told to.
 */
import { LineSplitter, LINE_TOO_LONG } from './line-splitter.js';
import { TokenBucket } from './rate-limiter.js';
import type { Limits } from './defaults.js';

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

/** Reading pauses while this many bytes wait to be parsed (throttled or held). Default 64 KiB. */
export const INPUT_HIGH_WATER = 64 * 1024;

export class LinePump {
  readonly #splitter: LineSplitter;
  readonly #bucket: TokenBucket;
  #held = false;
  #paused = false;
  #throttle: NodeJS.Timeout | undefined;
  #heldLine: Buffer | undefined;

  constructor(
    limits: Pick<Limits, 'maxLineBytes' | 'rateLimit' | 'rateBurst'>,
    private readonly source: PausableSource,
    private readonly handlers: LineHandlers,
  ) {
    this.#splitter = new LineSplitter(limits.maxLineBytes);
    this.#bucket = new TokenBucket(limits.rateLimit, limits.rateBurst);
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

  /** Hands buffered lines to the kernel until none is left, the rate limit bites, or a line holds. */
  pump(): void {
    if (this.waiting || this.source.closed) return;
    const handlers = this.handlers;
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
      const r = handlers.line(line);
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

  #pause(): void {
    if (this.#paused) return;
    this.#paused = true;
    this.source.pause();
  }
}
