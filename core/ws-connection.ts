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
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Bytes we may still queue: the limit less the socket's buffered amount at the last flush. */
  #budget: number;
  #closed = false;
  #pump: LinePump | undefined;
  #handlers: WsConnectionHandlers | undefined;
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
    this.#budget = limits.sendQueueBytes;
    this.done = new Promise((resolve) => ws.once('close', () => resolve()));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Starts reading; called once the kernel has a session for this connection. */
  start(handlers: WsConnectionHandlers): void {
    this.#handlers = handlers;
    const ws = this.ws;
    const pump = new LinePump(this.limits, this, handlers);
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

  /** Queues bytes; they go out as one text message per event-loop turn. */
  write(buf: Buffer): void {
    if (this.#closed) return;
    const n = this.#pending.push(buf);
    this.#pendingBytes += buf.length;
    if (this.#pendingBytes > this.#budget) {
      // As on TCP: hand the batch over before judging, so one turn's fan-out alone never disconnects.
      this.flush();
      if (this.#budget < 0) this.#overflow();
      return;
    }
    if (n === 1) this.batcher.schedule(this);
  }

  /** Sends a binary message now (voice is not batched); dropped when over `highWater` bytes wait already. */
  sendBinary(buf: Buffer, highWater: number): boolean {
    if (this.#closed || this.ws.bufferedAmount + this.#pendingBytes > highWater) return false;
    this.ws.send(buf, { binary: true });
    return true;
  }

  flush(): void {
    const p = this.#pending;
    const n = p.length;
    if (n === 0 || this.#closed) return;
    this.ws.send(n === 1 ? p[0]! : Buffer.concat(p, this.#pendingBytes), { binary: false });
    p.length = 0;
    this.#pendingBytes = 0;
    this.#budget = this.limits.sendQueueBytes - this.ws.bufferedAmount;
  }

  /** Sends `DISCONNECT: notice` (when given), then a close frame carrying the notice; destroys after the grace period. */
  close(notice?: string, reason = notice ?? 'closed by server'): void {
    if (this.#closed) return;
    if (notice !== undefined) {
      const bye = Buffer.from(`DISCONNECT: ${notice}\n`);
      this.#pending.push(bye);
      this.#pendingBytes += bye.length;
    }
    this.flush();
    this.#finish(reason);
    const code = notice === undefined ? CLOSE_NORMAL : notice === 'server shutting down' ? CLOSE_GOING_AWAY : CLOSE_POLICY;
    this.#end(code, notice ?? '');
  }

  /** Closes at once, discarding queued output. */
  destroy(reason: string): void {
    this.#finish(reason);
    this.ws.terminate();
  }

  #overflow(): void {
    // The browser stopped reading: drop its backlog instead of growing memory.
    this.#pending.length = 0;
    this.#pendingBytes = 0;
    this.#finish('send queue exceeded');
    this.ws.send('DISCONNECT: send queue exceeded\n');
    this.#end(CLOSE_POLICY, 'send queue exceeded');
  }

  #end(code: number, reason: string): void {
    // A close reason is at most 123 bytes (RFC 6455 section 5.5).
    this.ws.close(code, Buffer.from(reason).subarray(0, 123).toString());
    const ws = this.ws;
    setTimeout(() => ws.terminate(), this.limits.closeGraceMs).unref();
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
