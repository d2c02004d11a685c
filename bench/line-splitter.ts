// The bench's drivers take lines as (buffer, start, end) callbacks; the splitting itself is core's
// LineSplitter (the server's and the load harness's), so there is one line splitter.
import { LineSplitter as CoreLineSplitter, LINE_TOO_LONG } from '../core/line-splitter.js';

export type LineHandler = (buf: Buffer, start: number, end: number) => void;

/** Calls `onLine` for each complete, non-empty line; a line longer than `maxLine` is dropped. */
export class LineSplitter {
  readonly #core: CoreLineSplitter;

  constructor(
    private readonly onLine: LineHandler,
    maxLine = 1 << 20,
  ) {
    this.#core = new CoreLineSplitter(maxLine);
  }

  push(chunk: Buffer): void {
    const sp = this.#core;
    sp.push(chunk);
    for (let line = sp.shift(); line !== undefined; line = sp.shift()) {
      if (line !== LINE_TOO_LONG) this.onLine(line, 0, line.length);
    }
  }
}
