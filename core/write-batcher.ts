/**
 * Coalesces writes: connections queue Buffers during an event-loop turn and the
 * batcher flushes every dirty connection once, with one socket write each.
 * One batcher per server, so fan-outs of many messages cost one syscall per socket.
 *
 * Output comes in two kinds, so that one user's wide fan-out cannot delay
 * everyone else's replies (the attack of issue 8 item 4):
 *
 * - **Direct**: replies to the client whose command runs, and the first
 *   `bulkAbove` recipients of any command (or of output made outside commands
 *   between two flushes). Flushed at the end of the turn, whole.
 * - **Bulk**: the rest of a wide fan-out. Flushed in slices of `bulkSlice`
 *   sockets per turn, so that input is read and direct output flushed between
 *   slices; a connection with both is flushed whole at the first.
 *
 * Under very wide fan-out (a join storm into a channel of thousands, where every
 * join writes to every member) one write per socket per pass is still one
 * syscall per member per join. When a bulk pass touched at least
 * `coalesceAbove` sockets, the next one waits `touched / 100` ms (at most
 * `maxDelayMs`), so that syscalls stay near 100,000 per second however many
 * events arrive, and latency grows only for those huge fan-outs.
 */
export interface Flushable {
  flush(): void;
}

/** What the batcher schedules: a connection's send queue. `batchState` is the batcher's own. */
export interface Batched extends Flushable {
  /** Which of the batcher's lists hold it (IN_DIRECT, IN_BULK); 0 when none. */
  batchState: number;
}

const IN_DIRECT = 1;
const IN_BULK = 2;

export interface BatcherOptions {
  /** Sockets touched by one bulk pass from which the next pass is delayed. Default 1000; 0 never delays. */
  coalesceAbove: number;
  /** Longest delay of a bulk pass, ms. Default 50. */
  maxDelayMs: number;
  /** Recipients of one command past which its output is bulk. Default 500; 0: all output is direct. */
  bulkAbove: number;
  /** Sockets flushed per turn by a bulk pass. Default 256. */
  bulkSlice: number;
}

export const DEFAULT_BATCHER_OPTIONS: Readonly<BatcherOptions> = Object.freeze({ coalesceAbove: 1000, maxDelayMs: 50, bulkAbove: 500, bulkSlice: 256 });

/**
 * What one client's command made the server write to others, while it ran
 * synchronously: the fan-out cost charged to that client's rate limit, and
 * whether a write is bulk.
 */
export class FanoutMeter {
  /** The connection whose command is running, or undefined. */
  sender: Flushable | undefined;
  recipients = 0;
  bytes = 0;
  /** Writes to others outside any command since the last direct flush. */
  #loose = 0;

  constructor(private readonly bulkAbove = 0) {}

  begin(sender: Flushable): void {
    this.sender = sender;
    this.recipients = 0;
    this.bytes = 0;
  }

  /** Called by every connection's write: counts it unless it goes to the sender; true when it is bulk. */
  count(to: Flushable, bytes: number): boolean {
    const sender = this.sender;
    if (sender === undefined) return this.bulkAbove > 0 && ++this.#loose > this.bulkAbove;
    if (sender === to) return false;
    this.bytes += bytes;
    return ++this.recipients > this.bulkAbove && this.bulkAbove > 0;
  }

  end(): void {
    this.sender = undefined;
  }

  /** A direct flush ran: output made outside commands starts a new count. */
  flushed(): void {
    this.#loose = 0;
  }
}

export class WriteBatcher {
  /** Shared by the server's connections: fan-out is counted where writes are queued. */
  readonly meter: FanoutMeter;
  readonly #options: BatcherOptions;
  #direct: Batched[] = [];
  #directScheduled = false;
  /** Connections with bulk output for the next pass. */
  #bulk: Batched[] = [];
  /** The pass being written, from `#passAt` on. */
  #pass: Batched[] = [];
  #passAt = 0;
  /** A pass is running or its start is scheduled. */
  #passScheduled = false;
  /** Delay before the next pass starts, set by the size of the last one. */
  #delayMs = 0;

  readonly #runDirect = (): void => {
    this.#directScheduled = false;
    const list = this.#direct;
    this.#direct = [];
    this.meter.flushed();
    for (let i = 0; i < list.length; i++) {
      const c = list[i]!;
      c.batchState = 0;
      c.flush();
    }
  };

  readonly #runSlice = (): void => {
    if (this.#passAt === 0 && this.#pass.length === 0) {
      this.#pass = this.#bulk;
      this.#bulk = [];
    }
    const pass = this.#pass;
    const end = Math.min(pass.length, this.#passAt + this.#options.bulkSlice);
    for (let i = this.#passAt; i < end; i++) {
      const c = pass[i]!;
      c.batchState = 0;
      c.flush();
    }
    this.#passAt = end;
    if (end < pass.length) {
      setImmediate(this.#runSlice);
      return;
    }
    const { coalesceAbove, maxDelayMs } = this.#options;
    this.#delayMs = coalesceAbove > 0 && pass.length >= coalesceAbove ? Math.min(maxDelayMs, pass.length / 100) : 0;
    this.#pass = [];
    this.#passAt = 0;
    this.#passScheduled = false;
    if (this.#bulk.length > 0) this.#startPass();
  };

  constructor(options: Partial<BatcherOptions> = {}) {
    this.#options = { ...DEFAULT_BATCHER_OPTIONS, ...options };
    this.meter = new FanoutMeter(this.#options.bulkAbove);
  }

  /**
   * `c` has new output: flushes it at the end of this turn (after the poll
   * phase's I/O callbacks), or, for bulk output, in the next bulk pass, unless
   * it is due already. A connection with both is flushed whole at the first;
   * the other finds nothing left.
   */
  schedule(c: Batched, bulk = false): void {
    if (!bulk) {
      if ((c.batchState & IN_DIRECT) !== 0) return;
      c.batchState |= IN_DIRECT;
      this.#direct.push(c);
      if (!this.#directScheduled) {
        this.#directScheduled = true;
        setImmediate(this.#runDirect);
      }
      return;
    }
    if (c.batchState !== 0) return;
    c.batchState = IN_BULK;
    this.#bulk.push(c);
    if (!this.#passScheduled) this.#startPass();
  }

  #startPass(): void {
    this.#passScheduled = true;
    if (this.#delayMs > 0) setTimeout(this.#runSlice, this.#delayMs);
    else setImmediate(this.#runSlice);
  }
}
