/**
 * The output side of every transport: whole lines wait here and go to the
 * socket one chunk at a time, once the kernel took the previous chunk whole. So
 * at most one chunk sits in the OS buffer, the queue can be cut at a line
 * boundary, and a `DISCONNECT` goes out right after what the kernel already took.
 * TCP/TLS and WebSocket differ only in their {@link ByteSink}: where bytes go
 * and how much waits there (`writableLength` vs `bufferedAmount`).
 */
import type { Limits } from './defaults.js';
import type { Batched, WriteBatcher } from './write-batcher.js';

/** Where a {@link SendQueue} writes. */
export interface ByteSink {
  /** Bytes handed over and not yet taken by the kernel. */
  readonly bufferedBytes: number;
  /** True once nothing can be written any more. */
  readonly gone: boolean;
  /** Hands over one chunk of whole lines; `done` runs once it is written. */
  send(chunk: Buffer, done: () => void): void;
  /** Everything queued was handed over and the connection is closing: end it gracefully. */
  end(): void;
  /** Closes at once. */
  destroy(): void;
  /**
   * True when the sink may be destroyed early while closing because everything
   * was handed over (TCP: the kernel still delivers it). A WebSocket waits for its
   * close handshake instead.
   */
  readonly destroyWhenFlushed: boolean;
}

/** Who hears of a {@link SendQueue}'s overflow: its connection. */
export interface OverflowListener {
  overflowed(): void;
}

/** Most bytes handed to the socket at once. Default 64 KiB. */
export const WRITE_CHUNK = 64 * 1024;
/** After a send-queue overflow the socket lingers this many grace periods for the reader to reach the notice. */
export const OVERFLOW_LINGER_GRACES = 10;

export class SendQueue implements Batched {
  /** Whole lines (one or more per Buffer) not yet handed to the sink. */
  #queue: Buffer[] = [];
  #queueHead = 0;
  #queuedBytes = 0;
  /** The write batcher's own record of this queue (write-batcher.ts). */
  batchState = 0;
  /** Chunks handed to the sink whose write callback has not run yet. */
  #inFlight = 0;
  /** No more writes are taken (closing, overflowed). */
  #closed = false;
  #ended = false;
  readonly #onWritten = (): void => {
    this.#inFlight--;
    this.#writeOut();
  };

  /**
   * @param owner told once when the queue overflows (the client stopped reading);
   *   the queue has then queued `DISCONNECT: send queue exceeded` and is ending
   */
  constructor(
    private readonly sink: ByteSink,
    private readonly limits: Pick<Limits, 'sendQueueBytes' | 'closeGraceMs'>,
    private readonly batcher: WriteBatcher,
    private readonly owner: OverflowListener,
  ) {}

  /** Bytes queued and not yet taken by the kernel (ours plus the sink's). */
  get queuedBytes(): number {
    return this.#queuedBytes + this.sink.bufferedBytes;
  }

  /** Queues whole lines; they are written once per event-loop turn. */
  write(buf: Buffer): void {
    if (this.#closed) return;
    const bulk = this.batcher.meter.count(this, buf.length);
    this.#queue.push(buf);
    this.#queuedBytes += buf.length;
    if (this.#queuedBytes + this.sink.bufferedBytes > this.limits.sendQueueBytes) {
      // Hand what the socket takes to the kernel before judging: a client that reads is
      // measured by what the kernel could not take, not by one turn's fan-out (a burst
      // into a channel would otherwise disconnect every member).
      this.#writeOut();
      if (this.#queuedBytes + this.sink.bufferedBytes > this.limits.sendQueueBytes) this.#overflow();
      return;
    }
    this.batcher.schedule(this, bulk);
  }

  /** Writes out everything queued (the batcher calls it once a turn, or per bulk slice). */
  flush(): void {
    this.#writeOut();
  }

  /** Queues `last` (a `DISCONNECT` line) if given, takes no more writes, and ends after the queue (see {@link endAfterQueue}). */
  close(last: Buffer | undefined): void {
    if (this.#closed) return;
    this.#closed = true;
    if (last !== undefined) this.#push(last);
    this.#endAfterQueue(this.limits.closeGraceMs);
  }

  /** Takes no more writes and drops what waits (the connection is being destroyed). */
  discard(): void {
    this.#closed = true;
    this.#queue = [];
    this.#queueHead = 0;
    this.#queuedBytes = 0;
  }

  #push(buf: Buffer): void {
    this.#queue.push(buf);
    this.#queuedBytes += buf.length;
  }

  /** Hands queued lines to the sink in chunks of whole Buffers, one chunk in flight at a time. */
  #writeOut(): void {
    const sink = this.sink;
    if (sink.gone) return;
    const q = this.#queue;
    // Another chunk only once the kernel took the last one whole (its callback may still be pending).
    while (this.#queueHead < q.length && (this.#inFlight === 0 || sink.bufferedBytes === 0)) {
      let n = 0;
      let end = this.#queueHead;
      while (end < q.length && (n === 0 || n + q[end]!.length <= WRITE_CHUNK)) n += q[end++]!.length;
      const chunk = end - this.#queueHead === 1 ? q[this.#queueHead]! : Buffer.concat(q.slice(this.#queueHead, end), n);
      for (let i = this.#queueHead; i < end; i++) q[i] = EMPTY;
      this.#queueHead = end;
      this.#queuedBytes -= n;
      this.#inFlight++;
      sink.send(chunk, this.#onWritten);
    }
    if (this.#queueHead < q.length) {
      if (this.#queueHead > 1024) {
        this.#queue = q.slice(this.#queueHead);
        this.#queueHead = 0;
      }
      return;
    }
    q.length = 0;
    this.#queueHead = 0;
    if (this.#closed && !this.#ended) {
      this.#ended = true;
      sink.end();
    }
  }

  #overflow(): void {
    // The client stopped reading: drop the whole lines not yet handed over (what the
    // sink holds is finished, so no line is cut), then say why.
    this.#queue = [];
    this.#queueHead = 0;
    this.#queuedBytes = 0;
    this.#closed = true;
    this.#push(Buffer.from('DISCONNECT: send queue exceeded\n'));
    this.owner.overflowed();
    // A slow reader gets longer to reach the notice: what it has not read is at most one chunk and the kernel's buffer.
    this.#endAfterQueue(OVERFLOW_LINGER_GRACES * this.limits.closeGraceMs);
  }

  /**
   * Ends the sink once the queue is written. Destroys it once the kernel holds
   * everything where the sink allows (closing then still delivers it), or after
   * `lingerMs` in all (a client that stops reading: only then may it see a line cut short).
   */
  #endAfterQueue(lingerMs: number): void {
    this.#writeOut();
    const sink = this.sink;
    const grace = Math.max(1, this.limits.closeGraceMs);
    const deadline = performance.now() + lingerMs;
    const check = (): void => {
      if (sink.gone) return;
      if ((sink.destroyWhenFlushed && this.queuedBytes === 0) || performance.now() >= deadline) {
        sink.destroy();
        return;
      }
      setTimeout(check, Math.min(grace, Math.max(1, deadline - performance.now()))).unref();
    };
    setTimeout(check, Math.min(grace, lingerMs > 0 ? lingerMs : grace)).unref();
  }
}

const EMPTY = Buffer.alloc(0);
