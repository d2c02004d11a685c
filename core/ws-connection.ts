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

/** Where a {@link WsConnection} hands its socket back: once, when the WebSocket closed. */
export interface WsOwner {
  gone(conn: WsConnection): void;
}

/** The send queue's side of the WebSocket: a chunk of whole lines is one text message. */
class WsSink implements ByteSink {
  /** The close frame sent once the queue is written. */
  closeCode = CLOSE_NORMAL;
  closeReason = '';
  // Wait for the close handshake (or the deadline) rather than cut it.
  readonly destroyWhenFlushed = false;

  constructor(private readonly ws: WebSocket) {}

  get bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  get gone(): boolean {
    return this.ws.readyState !== this.ws.OPEN;
  }

  send(chunk: Buffer, done: () => void): void {
    this.ws.send(chunk, { binary: false }, done);
  }

  end(): void {
    // A close reason is at most 123 bytes (RFC 6455 section 5.5).
    this.ws.close(this.closeCode, Buffer.from(this.closeReason).subarray(0, 123).toString());
  }

  destroy(): void {
    this.ws.terminate();
  }
}

export class WsConnection implements Transport, Flushable, PausableSource {
  readonly remotePort: number;
  #closed = false;
  #pump: LinePump | undefined;
  #handlers: WsConnectionHandlers | undefined;
  #request: UpgradeRequestInfo | undefined;
  readonly #sink: WsSink;
  readonly #queue: SendQueue;

  constructor(
    readonly ws: WebSocket,
    readonly remoteAddress: string,
    remotePort: number,
    request: UpgradeRequestInfo,
    private readonly limits: Readonly<Limits>,
    private readonly batcher: WriteBatcher,
    owner: WsOwner,
  ) {
    this.remotePort = remotePort;
    this.#request = request;
    this.#sink = new WsSink(ws);
    // The same send queue as TCP.
    this.#queue = new SendQueue(this.#sink, limits, batcher, this);
    ws.on('close', () => {
      this.#finish('connection closed');
      owner.gone(this);
    });
  }

  /** The upgrade request, until the session is accepted. */
  get request(): UpgradeRequestInfo | undefined {
    return this.#request;
  }

  accepted(): void {
    this.#request = undefined;
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
    // 'close' follows.
    ws.on('error', () => this.#finish('connection error'));
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

  /** The send queue overflowed (the client stopped reading). */
  overflowed(): void {
    this.#sink.closeCode = CLOSE_POLICY;
    this.#sink.closeReason = 'send queue exceeded';
    this.#finish('send queue exceeded');
  }

  /** Sends `DISCONNECT: notice` (when given), then a close frame carrying the notice; terminates after the grace period. */
  close(notice?: string, reason = notice ?? 'closed by server'): void {
    if (this.#closed) return;
    this.#sink.closeCode = notice === undefined ? CLOSE_NORMAL : notice === 'server shutting down' ? CLOSE_GOING_AWAY : CLOSE_POLICY;
    this.#sink.closeReason = notice ?? '';
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
    this.#request = undefined;
    this.#pump?.stop();
    this.#handlers?.closed(reason);
  }
}

function toBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
