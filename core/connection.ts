/**
 * One client socket: framing, input rate limit, the bounded send queue, close.
 * It knows nothing of sessions or verbs; the kernel gets complete lines.
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

export class Connection implements Flushable {
  readonly remoteAddress: string;
  readonly remotePort: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Bytes we may still queue: the limit less the socket's buffer at the last flush. */
  #budget: number;
  #closed = false;
  #held = false;
  #throttle: NodeJS.Timeout | undefined;
  #heldLine: Buffer | undefined;
  #endRequested = false;
  #handlers: ConnectionHandlers | undefined;
  readonly #splitter: LineSplitter;
  readonly #bucket: TokenBucket;

  constructor(
    readonly socket: Socket,
    private readonly limits: Limits,
    private readonly batcher: WriteBatcher,
  ) {
    this.remoteAddress = normaliseIp(socket.remoteAddress ?? '');
    this.remotePort = socket.remotePort ?? 0;
    this.#splitter = new LineSplitter(limits.maxLineBytes);
    this.#bucket = new TokenBucket(limits.rateLimit, limits.rateBurst);
    this.#budget = limits.sendQueueBytes;
    socket.setNoDelay(true);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Starts reading; called once the kernel is ready for lines. */
  start(handlers: ConnectionHandlers): void {
    this.#handlers = handlers;
    const socket = this.socket;
    socket.on('data', (chunk: Buffer) => {
      this.#splitter.push(chunk);
      if (this.#held || this.#throttle) {
        if (this.#splitter.bufferedBytes > INPUT_HIGH_WATER) socket.pause();
        return;
      }
      this.#pump();
    });
    socket.on('error', () => this.#finish('connection error'));
    socket.on('close', () => this.#finish('connection closed'));
    socket.on('end', () => {
      // The client half-closed (`nc -N`): answer what it sent, then close our side.
      this.#endRequested = true;
      this.#pump();
    });
  }

  /** Queues bytes; they are written once per event-loop turn. */
  write(buf: Buffer): void {
    if (this.#closed) return;
    const n = this.#pending.push(buf);
    this.#pendingBytes += buf.length;
    if (this.#pendingBytes > this.#budget) {
      // Hand the batch to the socket before judging: a client that reads is measured by
      // what the kernel could not take, not by one turn's fan-out (a burst into a
      // channel would otherwise disconnect every member).
      this.flush();
      if (this.#budget < 0) this.#overflow();
      return;
    }
    if (n === 1) this.batcher.schedule(this);
  }

  flush(): void {
    const p = this.#pending;
    const n = p.length;
    if (n === 0 || this.#closed) return;
    this.socket.write(n === 1 ? p[0]! : Buffer.concat(p, this.#pendingBytes));
    p.length = 0;
    this.#pendingBytes = 0;
    this.#budget = this.limits.sendQueueBytes - this.socket.writableLength;
  }

  /**
   * Sends `DISCONNECT: reason` (where the socket still takes it) and closes.
   * Sockets that do not finish closing within the grace period are destroyed.
   */
  close(notice?: string, reason = notice ?? 'closed by server'): void {
    if (this.#closed) return;
    if (notice !== undefined) {
      const bye = Buffer.from(`DISCONNECT: ${notice}\n`);
      this.#pending.push(bye);
      this.#pendingBytes += bye.length;
    }
    this.flush();
    this.#finish(reason);
    this.socket.end();
    setTimeout(() => this.socket.destroy(), this.limits.closeGraceMs).unref();
  }

  /** Closes at once, discarding queued output. */
  destroy(reason: string): void {
    this.#finish(reason);
    this.socket.destroy();
  }

  #overflow(): void {
    // The client stopped reading: drop its backlog instead of growing memory.
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    const socket = this.socket;
    this.#finish('send queue exceeded');
    socket.end('DISCONNECT: send queue exceeded\n');
    setTimeout(() => socket.destroy(), this.limits.closeGraceMs).unref();
  }

  #pump(): void {
    if (this.#held || this.#throttle || this.#closed) return;
    const handlers = this.#handlers!;
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
      const r = handlers.line(line);
      if (this.#closed) return;
      if (r !== undefined) {
        this.#hold(r);
        return;
      }
    }
    if (this.#endRequested) this.close(undefined, 'connection closed');
    else if (this.socket.isPaused()) this.socket.resume();
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
    this.#handlers?.closed(reason);
  }
}

/** `::ffff:127.0.0.1` and `127.0.0.1` are one address for per-IP limits and UDP binding. */
export function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
