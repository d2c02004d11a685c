/**
 * Coalesces writes: connections queue Buffers during an event-loop turn and the
 * batcher flushes every dirty connection once, with one socket write each.
 * One batcher per server, so fan-outs of many messages cost one syscall per socket.
 */
export interface Flushable {
  flush(): void;
}

export class WriteBatcher {
  #dirty: Flushable[] = [];
  #scheduled = false;
  readonly #run = (): void => {
    this.#scheduled = false;
    const list = this.#dirty;
    this.#dirty = [];
    for (let i = 0; i < list.length; i++) list[i]!.flush();
  };

  /** Flushes `c` at the end of this turn (after the poll phase's I/O callbacks). */
  schedule(c: Flushable): void {
    this.#dirty.push(c);
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#run);
    }
  }
}
