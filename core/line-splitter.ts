/**
 * Splits a TCP byte stream into `\n`-terminated lines (PROTOCOL.md section 1).
 *
 * Pull-based: `push` only stores bytes, `shift` hands out one line at a time, so a
 * rate-limited caller can stop mid-chunk and resume later without losing order.
 * Memory stays bounded per partial line: an unterminated line is cut to
 * `maxLineBytes` bytes as soon as it is known to be too long, and the rest of it is
 * dropped as it arrives.
 */

/** Yielded once in place of a line that exceeds the limit. */
export const LINE_TOO_LONG: unique symbol = Symbol('LINE_TOO_LONG');

const LF = 0x0a;
const CR = 0x0d;
/** Smallest buffer allocated when received bytes must be copied. */
const MIN_CAPACITY = 16 * 1024;
const EMPTY = Buffer.alloc(0);

export class LineSplitter {
  readonly #max: number;
  /**
   * Bytes `[#start, #end)` of `#buf` are buffered. Bytes before `#start` may still be
   * referenced by lines already returned, so they are never overwritten: appends go
   * only to `[#end, #cap)` and a full buffer is replaced, not compacted in place.
   */
  #buf: Buffer = EMPTY;
  #start = 0;
  #end = 0;
  /** Writable limit of `#buf` (0 for an adopted chunk: it belongs to the caller). */
  #cap = 0;
  /** Where the next `\n` search starts: bytes before it hold no `\n` of the tail. */
  #scan = 0;
  /** Length of the unterminated line at the end of the buffer. */
  #tailLen = 0;
  /** Bytes are dropped until the next `\n` (the tail line is overlong). */
  #dropping = false;
  /** The dropped line was already reported, so its `\n` is dropped too. */
  #reported = false;

  /** `maxLineBytes` counts the whole line, its `\n` (and a `\r` before it) included. */
  constructor(maxLineBytes: number) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) {
      throw new RangeError(`maxLineBytes must be a positive integer, got ${maxLineBytes}`);
    }
    this.#max = maxLineBytes;
  }

  /** Bytes received and not yet returned (at most ~maxLineBytes for the partial line). */
  get bufferedBytes(): number {
    return this.#end - this.#start;
  }

  /** Appends received bytes. The chunk must not be modified afterwards (lines may alias it). */
  push(chunk: Buffer): void {
    let data = chunk;
    if (this.#dropping) {
      const nl = data.indexOf(LF);
      if (nl === -1) return;
      // An unreported line keeps its `\n` so that `shift` sees the (truncated) line end.
      data = data.subarray(this.#reported ? nl + 1 : nl);
      this.#dropping = false;
      this.#reported = false;
    }
    if (data.length === 0) return;

    const lastNl = data.lastIndexOf(LF);
    const tail = lastNl === -1 ? this.#tailLen + data.length : data.length - lastNl - 1;
    if (tail >= this.#max) {
      // Even with its `\n` this line cannot fit: keep exactly max bytes of it, which
      // `shift` recognises as overlong, and drop the rest until the next `\n`.
      data = data.subarray(0, data.length - (tail - this.#max));
      this.#tailLen = this.#max;
      this.#dropping = true;
    } else {
      this.#tailLen = tail;
    }
    this.#append(data);
  }

  /**
   * The next complete line without its `\n` (and without a `\r` right before it),
   * `LINE_TOO_LONG` once per overlong line, or undefined when no complete line is
   * buffered. Empty lines are skipped. The returned Buffer may alias internal memory
   * but is never overwritten later.
   */
  shift(): Buffer | typeof LINE_TOO_LONG | undefined {
    for (;;) {
      if (this.#start === this.#end) {
        // Drained: drop the reference so an idle connection holds no read buffer.
        if (this.#buf.length !== 0) {
          this.#buf = EMPTY;
          this.#start = this.#end = this.#scan = this.#cap = 0;
        }
        return undefined;
      }
      const rel = this.#buf.subarray(this.#scan, this.#end).indexOf(LF);
      if (rel === -1) {
        this.#scan = this.#end;
        if (this.#end - this.#start >= this.#max) {
          // Report the partial line now; `push` keeps dropping it up to its `\n`.
          this.#start = this.#end;
          this.#tailLen = 0;
          this.#dropping = true;
          this.#reported = true;
          return LINE_TOO_LONG;
        }
        return undefined;
      }
      const lineStart = this.#start;
      const nl = this.#scan + rel;
      this.#start = this.#scan = nl + 1;
      if (nl - lineStart + 1 > this.#max) return LINE_TOO_LONG;
      const lineEnd = nl > lineStart && this.#buf[nl - 1] === CR ? nl - 1 : nl;
      if (lineEnd > lineStart) return this.#buf.subarray(lineStart, lineEnd);
    }
  }

  #append(data: Buffer): void {
    const n = data.length;
    if (n === 0) return;
    if (this.#end + n <= this.#cap) {
      data.copy(this.#buf, this.#end);
      this.#end += n;
      return;
    }
    const live = this.#end - this.#start;
    if (live === 0) {
      // Nothing buffered: use the chunk itself instead of copying it.
      this.#buf = data;
      this.#start = this.#scan = 0;
      this.#end = n;
      this.#cap = 0;
      return;
    }
    // Doubling keeps copying amortised O(1) per byte even if the caller stops pulling.
    const next = Buffer.allocUnsafe(Math.max(MIN_CAPACITY, 2 * (live + n)));
    this.#buf.copy(next, 0, this.#start, this.#end);
    data.copy(next, live);
    this.#scan -= this.#start;
    this.#start = 0;
    this.#end = live + n;
    this.#cap = next.length;
    this.#buf = next;
  }
}
