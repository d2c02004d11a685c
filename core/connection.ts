/**
 * One TCP or TLS client socket. The input side (framing, the rate limit with
 * fan-out cost, holding lines) is the shared {@link LinePump}; the output side
 * (whole-line send queue, overflow, close) the shared {@link SendQueue}. What is
 * TCP's own: the socket's events, half-close, and reading to the end after close.
 * It knows nothing of sessions or verbs; the kernel gets complete lines.
 */
import type { Socket } from 'node:net';
import type { Limits } from './defaults.js';
import type { WriteBatcher, Flushable } from './write-batcher.js';
import { LinePump, type LineHandlers, type PausableSource } from './line-pump.js';
import { SendQueue, type ByteSink } from './send-queue.js';

export interface ConnectionHandlers extends LineHandlers {
  closed(reason: string): void;
}

/** The send queue's side of a TCP or TLS socket. */
class SocketSink implements ByteSink {
  readonly destroyWhenFlushed = true;

  constructor(private readonly socket: Socket) {}

  get bufferedBytes(): number {
    return this.socket.writableLength;
  }

  get gone(): boolean {
    return this.socket.destroyed;
  }

  send(chunk: Buffer, done: () => void): void {
    this.socket.write(chunk, done);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export class Connection implements Flushable, PausableSource {
  readonly remoteAddress: string;
  readonly remotePort: number;
  #closed = false;
  #handlers: ConnectionHandlers | undefined;
  #pump: LinePump | undefined;
  readonly #queue: SendQueue;
  readonly #onData = (chunk: Buffer): void => this.#pump!.push(chunk);

  constructor(
    readonly socket: Socket,
    private readonly limits: Limits,
    private readonly batcher: WriteBatcher,
    /** The client's address when not the socket's (a PROXY protocol header named it). */
    peer?: { address: string; port: number },
  ) {
    this.remoteAddress = normaliseIp(peer?.address ?? socket.remoteAddress ?? '');
    this.remotePort = peer?.port ?? socket.remotePort ?? 0;
    socket.setNoDelay(true);
    this.#queue = new SendQueue(new SocketSink(socket), limits, batcher, this);
  }

  /** The send queue overflowed (the client stopped reading). */
  overflowed(): void {
    this.#finish('send queue exceeded');
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes queued and not yet taken by the kernel (ours plus Node's buffer). */
  get queuedBytes(): number {
    return this.#queue.queuedBytes;
  }

  /**
   * Starts reading; called once the kernel is ready for lines.
   * @param first bytes already read from the socket (by the protocol sniffing)
   */
  start(handlers: ConnectionHandlers, first?: Buffer): void {
    this.#handlers = handlers;
    const socket = this.socket;
    const pump = new LinePump(this.limits, this, handlers, { meter: this.batcher.meter, self: this.#queue }, () => this.close(undefined, 'connection closed'));
    this.#pump = pump;
    socket.on('data', this.#onData);
    socket.on('error', () => this.#finish('connection error'));
    socket.on('close', () => this.#finish('connection closed'));
    // The client half-closed (`nc -N`): answer what it sent, then close our side.
    socket.on('end', () => pump.requestEnd());
    // A socket whose first bytes were read ahead (the PROXY protocol) waits paused, its bytes put back.
    if (socket.isPaused()) socket.resume();
    if (first !== undefined) pump.push(first);
    // The client half-closed while its first bytes were awaited.
    if (socket.readableEnded) pump.requestEnd();
  }

  /** Queues whole lines; they are written once per event-loop turn. */
  write(buf: Buffer): void {
    if (!this.#closed) this.#queue.write(buf);
  }

  flush(): void {
    this.#queue.flush();
  }

  /**
   * Sends `DISCONNECT: reason` (where the socket still takes it) and closes.
   * Sockets that stop taking bytes for the grace period are destroyed.
   */
  close(notice?: string, reason = notice ?? 'closed by server'): void {
    if (this.#closed) return;
    this.#finish(reason);
    this.#queue.close(notice === undefined ? undefined : Buffer.from(`DISCONNECT: ${notice}\n`));
  }

  /** Closes at once, discarding queued output. */
  destroy(reason: string): void {
    this.#finish(reason);
    this.#queue.discard();
    this.socket.destroy();
  }

  #finish(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pump?.stop();
    // Read and discard from now on: nothing more is parsed, and unread input would
    // make the kernel reset the connection instead of delivering our last lines.
    this.socket.off('data', this.#onData);
    this.socket.on('data', discard);
    this.socket.resume();
    this.#handlers?.closed(reason);
  }
}

function discard(): void {}

/**
 * The no-op 'error' listener every accepted socket gets until its transport
 * handles errors. One function for all: a closure per socket would keep alive
 * whatever its scope held (the upgrade request, the first bytes).
 */
export function ignoreError(): void {}

/** `::ffff:127.0.0.1` and `127.0.0.1` are one address for per-IP limits and UDP binding. */
export function normaliseIp(ip: string): string {
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
