/**
 * A client as the kernel and plugins see it: identity, state, and a way to send.
 * The transport behind it is a socket connection, or anything else that can
 * take bytes (tests drive sessions without sockets).
 */
import { formatServer } from './codec.js';
import type { ServerMessage } from './actions.js';
import type { WireErrorCode } from './errors.js';

/** The HTTP request that opened a WebSocket transport, as the authentication hook sees it. */
export interface UpgradeRequestInfo {
  /** Lower-cased header names, as Node's `IncomingMessage.headers` (cookies in `cookie`). */
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Path and query of the upgrade request. */
  readonly url: string;
}

/** What a session writes to. `Connection` implements it for TCP and TLS, `WsConnection` for WebSocket. */
export interface Transport {
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** The HTTP upgrade request, for transports opened by one (WebSocket), until the session is accepted. */
  readonly request?: UpgradeRequestInfo | undefined;
  /** The session was accepted: what only the handshake needed (the upgrade request) may go. */
  accepted?(): void;
  write(buf: Buffer): void;
  /**
   * Sends one binary message (voice frames over WebSocket), unless more than
   * `highWater` bytes wait to be sent: then it is dropped and false returned.
   * Absent on transports without binary messages (TCP, TLS).
   */
  sendBinary?(buf: Buffer, highWater: number): boolean;
  /**
   * Closes. `notice`, when given, is sent first as `DISCONNECT: notice`;
   * `reason` is what plugins and events see (defaults to the notice).
   */
  close(notice?: string, reason?: string): void;
}

export type SessionState = 'handshake' | 'connected' | 'closed';

export class Session {
  /** Nickname as the user spelled it; set once `CONNECT` succeeds. */
  nick = '';
  realname = '';
  state: SessionState = 'handshake';
  /** Milliseconds since the epoch when `CONNECT` succeeded. */
  connectedAt = 0;
  /** Claims the authentication hook returned (`{ ok: true, data }`); the host app reads them here. */
  data: unknown = undefined;
  /**
   * Work a handler or hook left pending (a cluster round trip): the kernel
   * holds this session's next lines until it settles, so replies keep their order.
   */
  pending: Promise<void> | undefined = undefined;

  constructor(
    readonly id: number,
    readonly transport: Transport,
    private readonly maxLineBytes: number,
  ) {}

  get remoteAddress(): string {
    return this.transport.remoteAddress;
  }

  get connected(): boolean {
    return this.state === 'connected';
  }

  /** Writes pre-encoded wire bytes (one or more complete lines). */
  write(buf: Buffer): void {
    if (this.state !== 'closed') this.transport.write(buf);
  }

  /** True when the transport carries binary messages (WebSocket). */
  get binary(): boolean {
    return this.transport.sendBinary !== undefined;
  }

  /**
   * Sends one binary message; false when it was dropped (closed, no binary
   * messages on this transport, or more than `highWater` bytes already waiting).
   */
  sendBinary(buf: Buffer, highWater: number): boolean {
    return this.state !== 'closed' && this.transport.sendBinary !== undefined && this.transport.sendBinary(buf, highWater);
  }

  /** Formats and sends one server message. */
  send(msg: ServerMessage): void {
    if (this.state !== 'closed') this.transport.write(Buffer.from(formatServer(msg, this.maxLineBytes)));
  }

  /** Sends `ERROR <code>: <text>`; a text that quotes the client (a verb, a nick) is cut to fit the line limit. */
  error(code: WireErrorCode, text: string): void {
    const room = this.maxLineBytes - `ERROR ${code}: \n`.length;
    this.send({ type: 'ERROR', code, text: Buffer.byteLength(text) > room ? `${cutUtf8(text, room - 3)}...` : text });
  }

  /** Closes the session; `reason` is sent as `DISCONNECT: reason` first. */
  close(reason?: string): void {
    this.transport.close(reason);
  }

  /** Makes the session's next lines wait for `work` too. */
  hold(work: Promise<unknown>): void {
    const p = work.then(
      () => {},
      () => {},
    );
    this.pending = this.pending ? Promise.all([this.pending, p]).then(() => {}) : p;
  }

  toString(): string {
    return this.nick || `#${this.id}@${this.remoteAddress}`;
  }
}

/** The longest prefix of `text` of at most `bytes` UTF-8 bytes, never splitting a character. */
function cutUtf8(text: string, bytes: number): string {
  const buf = Buffer.from(text);
  let n = Math.max(0, bytes);
  while (n > 0 && (buf[n]! & 0xc0) === 0x80) n--;
  return buf.subarray(0, n).toString();
}
