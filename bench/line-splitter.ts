// Newline framing over Buffers without per-line allocation: lines are reported as
// (buffer, start, end) ranges of the received chunk. Only a line that straddles two
// chunks is copied (once). A trailing '\r' is dropped; empty lines are skipped.

export type LineHandler = (buf: Buffer, start: number, end: number) => void;

export class LineSplitter {
  private rest: Buffer | null = null;
  private discarding = false;

  constructor(
    private readonly onLine: LineHandler,
    /** A line longer than this is discarded (up to its '\n'). */
    private readonly maxLine = 1 << 20,
  ) {}

  push(chunk: Buffer): void {
    let pos = 0;
    if (this.rest !== null || this.discarding) {
      const nl = chunk.indexOf(10);
      if (nl < 0) {
        if (this.rest !== null) {
          if (this.rest.length + chunk.length > this.maxLine) {
            this.rest = null;
            this.discarding = true;
          } else {
            this.rest = Buffer.concat([this.rest, chunk]);
          }
        }
        return;
      }
      if (this.rest !== null) {
        const line = Buffer.concat([this.rest, chunk.subarray(0, nl)]);
        this.rest = null;
        this.emit(line, 0, line.length);
      }
      this.discarding = false;
      pos = nl + 1;
    }
    const len = chunk.length;
    while (pos < len) {
      const nl = chunk.indexOf(10, pos);
      if (nl < 0) {
        // Keep a view of the tail (Node hands every read its own Buffer, so this is safe).
        if (len - pos > this.maxLine) this.discarding = true;
        else this.rest = chunk.subarray(pos);
        return;
      }
      this.emit(chunk, pos, nl);
      pos = nl + 1;
    }
  }

  private emit(buf: Buffer, start: number, end: number): void {
    if (end > start && buf[end - 1] === 13) end--;
    if (end > start) this.onLine(buf, start, end);
  }
}
