/**
 * One client socket: framing, input rate limit (with fan-out cost), the bounded
 * send queue, close. It knows nothing of sessions or verbs; the kernel gets
 * complete lines.
 */
import type { Socket } from 'node:net';
import { LineSplitter, LINE_TOO_LONG } from './line-splitter.js';
import { TokenBucket } from './rate-limiter.js';
import type { Limits } from './defaults.js';
import type { WriteBatcher, Flushable } from './write-batcher.js';

export interface ConnectionHandlers {
  /** A complete line. Returning a promise holds further lines until it settles. */
  line(line: Buffer): void | Promise<void>;
  tooLong(): void;
  closed(reason: string): void;
}

/** Reading pauses while this many bytes wait to be parsed (throttled or held). */
const INPUT_HIGH_WATER = 64 * 1024;
/**
 * Most bytes handed to the socket at once. Output waits in our queue as whole lines
 * and goes to the socket only when it has written everything before: so at most one
 * such chunk sits in Node's buffer, the send queue can be cut at a line boundary,
 * and a `DISCONNECT` goes out right after what the kernel already took.
 */
const WRITE_CHUNK = 64 * 1024;
/** After a send-queue overflow the socket lingers this many grace periods for the reader to reach the notice. */
const OVERFLOW_LINGER_GRACES = 10;

export class Connection implements Flushable {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Whole lines (one or more per Buffer) not yet handed to the socket. */
  #queue: Buffer[] = [];
  #queueHead = 0;
  #queuedBytes = 0;
  #scheduled = false;
  /** Chunks handed to the socket whose write callback has not run yet. */
  #inFlight = 0;
  #closed = false;
  #ended = false;
  #held = false;
  #throttle: NodeJS.Timeout | undefined;
  #heldLine: Buffer | undefined;
  #endRequested = false;
  #handlers: ConnectionHandlers | undefined;
  readonly #splitter: LineSplitter;
  readonly #bucket: TokenBucket;
  readonly #onData = (chunk: Buffer): void => {
    this.#splitter.push(chunk);
    if (this.#held || this.#throttle) {
      if (this.#splitter.bufferedBytes > INPUT_HIGH_WATER) this.socket.pause();
      return;
    }
    this.#pump();
  };
  readonly #onWritten = (): void => {
    this.#inFlight--;
    this.#writeOut();
  };

  constructor(
    readonly socket: Socket,
    private readonly limits: Limits,
    private readonly batcher: WriteBatcher,
    /** The client's address when not the socket's (a PROXY protocol header named it). */
    peer?: { address: string; port: number },
  ) {
    this.remoteAddress = normaliseIp(peer?.address ?? socket.remoteAddress ?? '');
    this.remotePort = peer?.port ?? socket.remotePort ?? 0;
    this.#splitter = new LineSplitter(limits.maxLineBytes);
    this.#bucket = new TokenBucket(limits.rateLimit, limits.rateBurst, undefined, (limits.rateLimit * limits.fanoutMaxDelayMs) / 1000);
    socket.setNoDelay(true);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes queued and not yet taken by the kernel (ours plus Node's buffer). */
  get queuedBytes(): number {
    return this.#queuedBytes + this.socket.writableLength;
  }

  /** Starts reading; called once the kernel is ready for lines. */
  start(handlers: ConnectionHandlers): void {
    this.#handlers = handlers;
    const socket = this.socket;
    socket.on('data', this.#onData);
    socket.on('error', () => this.#finish('connection error'));
    socket.on('close', () => this.#finish('connection closed'));
    socket.on('end', () => {
      // The client half-closed (`nc -N`): answer what it sent, then close our side.
      this.#endRequested = true;
      this.#pump();
    });
    // A socket whose first bytes were read ahead (the PROXY protocol) waits paused, its bytes put back.
    if (socket.isPaused()) socket.resume();
  }

  /** Queues whole lines; they are written once per event-loop turn. */
  write(buf: Buffer): void {
    if (this.#closed) return;
    this.batcher.meter.count(this, buf.length);
    this.#queue.push(buf);
    this.#queuedBytes += buf.length;
    if (this.#queuedBytes + this.socket.writableLength > this.limits.sendQueueBytes) {
      // Hand what the socket takes to the kernel before judging: a client that reads is
      // measured by what the kernel could not take, not by one turn's fan-out (a burst
      // into a channel would otherwise disconnect every member).
      this.#writeOut();
      if (this.#queuedBytes + this.socket.writableLength > this.limits.sendQueueBytes) this.#overflow();
      return;
    }
    if (!this.#scheduled) {
      this.#scheduled = true;
      this.batcher.schedule(this);
    }
  }

  flush(): void {
    this.#scheduled = false;
    this.#writeOut();
  }

  /**
   * Sends `DISCONNECT: reason` (where the socket still takes it) and closes.
   * Sockets that stop taking bytes for the grace period are destroyed.
   */
  close(notice?: string, reason = notice ?? 'closed by server'): void {
    if (this.#closed) return;
    if (notice !== undefined) {
      const bye = Buffer.from(`DISCONNECT: ${notice}\n`);
      this.#queue.push(bye);
      this.#queuedBytes += bye.length;
    }
    this.#finish(reason);
    this.#endAfterQueue(this.limits.closeGraceMs);
  }

  /** Closes at once, discarding queued output. */
  destroy(reason: string): void {
    this.#finish(reason);
    this.socket.destroy();
  }

  /** Hands queued lines to the socket in chunks of whole Buffers, one chunk in flight at a time. */
  #writeOut(): void {
    const socket = this.socket;
    if (socket.destroyed) return;
    const q = this.#queue;
    // Another chunk only once the kernel took the last one whole (its callback may still be pending).
    while (this.#queueHead < q.length && (this.#inFlight === 0 || socket.writableLength === 0)) {
      let n = 0;
      let end = this.#queueHead;
      while (end < q.length && (n === 0 || n + q[end]!.length <= WRITE_CHUNK)) n += q[end++]!.length;
      const chunk = end - this.#queueHead === 1 ? q[this.#queueHead]! : Buffer.concat(q.slice(this.#queueHead, end), n);
      for (let i = this.#queueHead; i < end; i++) q[i] = EMPTY;
      this.#queueHead = end;
      this.#queuedBytes -= n;
      this.#inFlight++;
      socket.write(chunk, this.#onWritten);
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
    if (this.#closed && !this.#ended) this.#endNow();
  }

  #overflow(): void {
    // The client stopped reading: drop the whole lines not yet handed to the socket
    // (what the socket holds is finished, so no line is cut), then say why.
    this.#queue = [];
    this.#queueHead = 0;
    this.#queuedBytes = 0;
    const bye = Buffer.from('DISCONNECT: send queue exceeded\n');
    this.#queue.push(bye);
    this.#queuedBytes += bye.length;
    this.#finish('send queue exceeded');
    // A slow reader gets longer to reach the notice: what it has not read is at most one chunk and the kernel's buffer.
    this.#endAfterQueue(OVERFLOW_LINGER_GRACES * this.limits.closeGraceMs);
  }

  /**
   * Ends the socket once the queue is written. Destroys it once the kernel holds
   * everything (closing then still delivers it), or after `lingerMs` in all (a client
   * that stops reading: only then may it see a line cut short).
   */
  #endAfterQueue(lingerMs: number): void {
    this.#writeOut();
    const socket = this.socket;
    const grace = Math.max(1, this.limits.closeGraceMs);
    const deadline = performance.now() + lingerMs;
    const check = (): void => {
      if (socket.destroyed) return;
      if (this.queuedBytes === 0 || performance.now() >= deadline) {
        socket.destroy();
        return;
      }
      setTimeout(check, grace).unref();
    };
    setTimeout(check, grace).unref();
  }

  #endNow(): void {
    this.#ended = true;
    this.socket.end();
  }

  #pump(): void {
    if (this.#held || this.#throttle || this.#closed) return;
    const handlers = this.#handlers!;
    const meter = this.batcher.meter;
    for (;;) {
      const line = this.#heldLine ?? this.#splitter.shift();
      this.#heldLine = undefined;
      if (line === undefined) break;
      const wait = this.#bucket.take();
      if (wait > 0) {
        // Copy: the splitter may reuse its buffer before the throttle ends.
        this.#heldLine = line === LINE_TOO_LONG ? undefined : Buffer.from(line);
        if (line === LINE_TOO_LONG) handlers.tooLong();
        this.#pauseFor(wait);
        return;
      }
      if (line === LINE_TOO_LONG) {
        handlers.tooLong();
        continue;
      }
      let r: void | Promise<void>;
      meter.begin(this);
      try {
        r = handlers.line(line);
      } finally {
        meter.end();
      }
      this.#charge(meter.recipients, meter.bytes);
      if (this.#closed) return;
      if (r !== undefined) {
        this.#hold(r);
        return;
      }
    }
    if (this.#endRequested) this.close(undefined, 'connection closed');
    else if (this.socket.isPaused()) this.socket.resume();
  }

  /** Fan-out cost: recipients reached and bytes written to others, as extra tokens. */
  #charge(recipients: number, bytes: number): void {
    if (recipients === 0) return;
    const { fanoutRecipientsPerCommand: r, fanoutBytesPerCommand: b } = this.limits;
    this.#bucket.charge((r > 0 ? recipients / r : 0) + (b > 0 ? bytes / b : 0));
  }

  #pauseFor(ms: number): void {
    this.socket.pause();
    this.#throttle = setTimeout(() => {
      this.#throttle = undefined;
      this.#pump();
    }, ms);
  }

  #hold(p: Promise<void>): void {
    this.#held = true;
    if (this.#splitter.bufferedBytes > INPUT_HIGH_WATER) this.socket.pause();
    p.finally(() => {
      this.#held = false;
      this.#pump();
    });
  }

  #finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#throttle) clearTimeout(this.#throttle);
    // Read and discard from now on: nothing more is parsed, and unread input would
    // make the kernel reset the connection instead of delivering our last lines.
    this.socket.off('data', this.#onData);
    this.socket.on('data', discard);
    this.socket.resume();
    this.#handlers?.closed(reason);
  }
}

const EMPTY = Buffer.alloc(0);
function discard(): void {}

/** `::ffff:127.0.0.1` and `127.0.0.1` are one address for per-IP limits and UDP binding. */
export function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
