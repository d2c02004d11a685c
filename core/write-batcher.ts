/**
 * Coalesces writes: connections queue Buffers during an event-loop turn and the
 * batcher flushes every dirty connection once, with one socket write each.
 * One batcher per server, so fan-outs of many messages cost one syscall per socket.
 *
 * Under very wide fan-out (a join storm into a channel of thousands, where every
 * join writes to every member) one write per socket per turn is still one
 * syscall per member per join. When a flush touched at least `coalesceAbove`
 * sockets, the next flush waits `touched / 100` ms (at most `maxDelayMs`), so
 * that syscalls stay near 100,000 per second however many events arrive, and
 * latency grows only for those huge fan-outs.
 */
export interface Flushable {
  flush(): void;
}

export interface BatcherOptions {
  /** Sockets touched by one flush from which the next flush is delayed. Default 1000; 0 never delays. */
  coalesceAbove: number;
  /** Longest delay of a flush, ms. Default 50. */
  maxDelayMs: number;
}

/**
 * What one client's command made the server write to others, while it ran
 * synchronously: the fan-out cost charged to that client's rate limit.
 */
export class FanoutMeter {
  /** The connection whose command is running, or undefined. */
  sender: Flushable | undefined;
  recipients = 0;
  bytes = 0;

  begin(sender: Flushable): void {
    this.sender = sender;
    this.recipients = 0;
    this.bytes = 0;
  }

  /** Called by every connection's write: counts it unless it goes to the sender. */
  count(to: Flushable, bytes: number): void {
    if (this.sender !== undefined && this.sender !== to) {
      this.recipients++;
      this.bytes += bytes;
    }
  }

  end(): void {
    this.sender = undefined;
  }
}

export class WriteBatcher {
  /** Shared by the server's connections: fan-out is counted where writes are queued. */
  readonly meter = new FanoutMeter();
  #dirty: Flushable[] = [];
  #scheduled = false;
  #delayMs = 0;
  readonly #run = (): void => {
    this.#scheduled = false;
    const list = this.#dirty;
    this.#dirty = [];
    for (let i = 0; i < list.length; i++) list[i]!.flush();
    const { coalesceAbove, maxDelayMs } = this.options;
    this.#delayMs = coalesceAbove > 0 && list.length >= coalesceAbove ? Math.min(maxDelayMs, list.length / 100) : 0;
  };

  constructor(private readonly options: BatcherOptions = { coalesceAbove: 1000, maxDelayMs: 50 }) {}

  /** Flushes `c` at the end of this turn (after the poll phase's I/O callbacks), or after the coalescing delay. */
  schedule(c: Flushable): void {
    this.#dirty.push(c);
    if (!this.#scheduled) {
      this.#scheduled = true;
      if (this.#delayMs > 0) setTimeout(this.#run, this.#delayMs);
      else setImmediate(this.#run);
    }
  }
}
