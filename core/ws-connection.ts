/**
 * One WebSocket client: the line protocol in text messages, with the limits of a
 * TCP connection (line limit, rate limit pausing reads, bounded send queue).
 * A text message carries one or more complete lines; its end also ends a line,
 * so a browser may send `MSG #a: hi` without the `\n`.
 */
import type { WebSocket, RawData } from 'ws';
import type { Limits } from './defaults.js';
import type { Transport, UpgradeRequestInfo } from './session.js';
import type { WriteBatcher, Flushable } from './write-batcher.js';
import { LinePump, type LineHandlers, type PausableSource } from './line-pump.js';
import { SendQueue, type ByteSink } from './send-queue.js';

export interface WsConnectionHandlers extends LineHandlers {
  /** A binary message (reserved for voice frames). */
  binary(data: Buffer): void;
  closed(reason: string): void;
}

const LF = Buffer.from('\n');

/** Close codes (RFC 6455 section 7.4.1) by why the server closes. */
const CLOSE_NORMAL = 1000;
const CLOSE_GOING_AWAY = 1001;
const CLOSE_POLICY = 1008;

export class WsConnection implements Transport, Flushable, PausableSource {
  readonly remotePort: number;
  #closed = false;
  #pump: LinePump | undefined;
  #handlers: WsConnectionHandlers | undefined;
  readonly #queue: SendQueue;
  /** The close frame sent once the queue is written. */
  #closeCode = CLOSE_NORMAL;
  #closeReason = '';
  /** Resolves once the underlying socket closed. */
  readonly done: Promise<void>;

  constructor(
    readonly ws: WebSocket,
    readonly remoteAddress: string,
    remotePort: number,
    readonly request: UpgradeRequestInfo,
    private readonly limits: Readonly<Limits>,
    private readonly batcher: WriteBatcher,
  ) {
    this.remotePort = remotePort;
    this.done = new Promise((resolve) => ws.once('close', () => resolve()));
    // The same send queue as TCP; a chunk of whole lines is one text message.
    const sink: ByteSink = {
      get bufferedBytes() {
        return ws.bufferedAmount;
      },
      get gone() {
        return ws.readyState !== ws.OPEN;
      },
      send: (chunk, done) => ws.send(chunk, { binary: false }, () => done()),
      // A close reason is at most 123 bytes (RFC 6455 section 5.5).
      end: () => ws.close(this.#closeCode, Buffer.from(this.#closeReason).subarray(0, 123).toString()),
      destroy: () => ws.terminate(),
      // Wait for the close handshake (or the deadline) rather than cut it.
      destroyWhenFlushed: false,
    };
    this.#queue = new SendQueue(sink, limits, batcher, () => {
      this.#closeCode = CLOSE_POLICY;
      this.#closeReason = 'send queue exceeded';
      this.#finish('send queue exceeded');
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes queued and not yet taken by the kernel (ours plus ws's buffered amount). */
  get queuedBytes(): number {
    return this.#queue.queuedBytes;
  }

  /** Starts reading; called once the kernel has a session for this connection. */
  start(handlers: WsConnectionHandlers): void {
    this.#handlers = handlers;
    const ws = this.ws;
    // The same input side as TCP: framing, rate limit, fan-out cost.
    const pump = new LinePump(this.limits, this, handlers, { meter: this.batcher.meter, self: this.#queue });
    this.#pump = pump;
    ws.on('message', (data: RawData, isBinary: boolean) => {
      const buf = toBuffer(data);
      if (isBinary) {
        handlers.binary(buf);
        return;
      }
      if (buf.length === 0) return;
      pump.push(buf);
      if (buf[buf.length - 1] !== 0x0a) pump.push(LF);
    });
    ws.on('error', () => this.#finish('connection error'));
    ws.on('close', () => this.#finish('connection closed'));
  }

  pause(): void {
    this.ws.pause();
  }

  resume(): void {
    this.ws.resume();
  }

  /** Queues whole lines; they go out as text messages once per event-loop turn. */
  write(buf: Buffer): void {
    if (!this.#closed) this.#queue.write(buf);
  }

  /** Sends a binary message now (voice is not batched); dropped when over `highWater` bytes wait already. */
  sendBinary(buf: Buffer, highWater: number): boolean {
    if (this.#closed || this.#queue.queuedBytes > highWater) return false;
    this.ws.send(buf, { binary: true });
    return true;
  }

  flush(): void {
    this.#queue.flush();
  }

  /** Sends `DISCONNECT: notice` (when given), then a close frame carrying the notice; terminates after the grace period. */
  close(notice?: string, reason = notice ?? 'closed by server'): void {
    if (this.#closed) return;
    this.#closeCode = notice === undefined ? CLOSE_NORMAL : notice === 'server shutting down' ? CLOSE_GOING_AWAY : CLOSE_POLICY;
    this.#closeReason = notice ?? '';
    this.#finish(reason);
    this.#queue.close(notice === undefined ? undefined : Buffer.from(`DISCONNECT: ${notice}\n`));
  }

  /** Closes at once, discarding queued output. */
  destroy(reason: string): void {
    this.#finish(reason);
    this.#queue.discard();
    this.ws.terminate();
  }

  #finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pump?.stop();
    this.#handlers?.closed(reason);
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
