/**
 * From TCP accept to a transport: admission (caps, per-IP count, connection
 * throttle), the PROXY protocol from trusted proxies, TLS layered per socket,
 * the handshake deadline counted from accept, and one-port sniffing, which
 * hands HTTP to the port's HTTP server and everything else to the line protocol.
 * The server owns what comes after (connections, sessions, WebSocket gateways).
 */
import type * as net from 'node:net';
import * as tls from 'node:tls';
import type { Server as HttpServer } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Limits } from './defaults.js';
import type { Logger } from './logger.js';
import type { Session } from './session.js';
import type { Admission, Refusal } from './admission.js';
import type { ProxyGate } from './proxy-gate.js';
import type { ProxyEndpoint } from './proxy-protocol.js';
import { ignoreError, normaliseIp } from './connection.js';
import { DeadlineQueue, type Deadline } from './deadline-queue.js';
import { openFileCount, openFileLimit } from './fd-limit.js';

/** First bytes of the HTTP requests the port answers; anything else is the line protocol. */
const HTTP_STARTS = [Buffer.from('GET '), Buffer.from('HEAD ')];

/**
 * What the first bytes of a connection are: 'http', 'line', or 'more' while they
 * are a strict prefix of an HTTP start (at most 5 bytes are ever awaited).
 */
export function sniffProtocol(head: Buffer): 'http' | 'line' | 'more' {
  let more = false;
  for (const m of HTTP_STARTS) {
    const n = Math.min(m.length, head.length);
    if (head.compare(m, 0, n, 0, n) !== 0) continue;
    if (head.length >= m.length) return 'http';
    more = true;
  }
  return more ? 'more' : 'line';
}

/** Running out of file descriptors (or close to it) is logged at most this often. */
const EMFILE_LOG_INTERVAL_MS = 10_000;

/** One accepted TCP socket, from accept to close (TLS handshake included). */
interface Accepted {
  readonly raw: net.Socket;
  readonly ip: string;
  /** The client's address: the socket's, or the one its trusted proxy's PROXY header named. */
  readonly peer: ProxyEndpoint;
  session?: Session;
  /** While the first bytes are awaited: gives the socket to the line protocol at once (timeout, close). */
  settle?: () => void;
  /** Its handshake deadline, cancelled when the socket closes. */
  deadline?: Deadline<Accepted>;
}

/** What the intake needs from its server. */
export interface IntakeHost {
  readonly limits: Readonly<Limits>;
  readonly log: Logger;
  /** False once the server is closing. */
  accepting(): boolean;
  /** The port's HTTP server, or undefined: then every socket is a line-protocol client (no sniffing). */
  http(): HttpServer | undefined;
  /** A line-protocol client: its connection and session. `first`: what the sniffing read. */
  open(socket: net.Socket, peer: ProxyEndpoint, first?: Buffer): Session;
}

export class SocketIntake {
  /** Every accepted TCP socket until it closes, so that caps and close() see TLS handshakes too. */
  readonly #accepted = new Set<Accepted>();
  /** Accepted sockets handed to HTTP, by socket, so that their WebSocket session counts as their handshake. */
  readonly #httpSockets = new WeakMap<Duplex, Accepted>();
  /** Accepted sockets in accept order, each checked when its handshake time is up. */
  readonly #handshakes: DeadlineQueue<Accepted>;
  /** Sockets accepted while the plugins start, handed over once they have. */
  #early: { socket: net.Socket; rec: Accepted }[] | undefined;
  #lastFdLog = -Infinity;
  #fdErrors = 0;
  /** The open-file limit, when known (see {@link limitFds}). */
  #fdLimit: number | undefined;

  constructor(
    private readonly host: IntakeHost,
    private readonly admission: Admission,
    private readonly proxy: ProxyGate | undefined,
  ) {
    this.#handshakes = new DeadlineQueue(host.limits.handshakeTimeoutMs, (rec) => this.#handshakeExpired(rec));
  }

  /** Open TCP sockets, from accept to close: TLS handshakes and refused sockets not yet closed included. */
  get socketCount(): number {
    return this.#accepted.size + (this.proxy?.pending ?? 0);
  }

  /** From now until {@link release}, accepted sockets wait (the plugins are starting). */
  hold(): void {
    this.#early = [];
  }

  /** Hands over the sockets that waited. */
  release(): void {
    const early = this.#early ?? [];
    this.#early = undefined;
    for (const e of early) this.#accept(e.socket, e.rec);
  }

  /** The WebSocket session of a socket that the sniffing handed to HTTP: its handshake is done once it connects. */
  httpSessionOpened(socket: Duplex, session: Session): void {
    const rec = this.#httpSockets.get(socket);
    if (rec) rec.session = session;
  }

  /**
   * A new TCP socket: admission (caps and throttle), the handshake deadline
   * from accept, then TLS (when `secure`) or the connection itself.
   */
  admit(raw: net.Socket, secure: tls.SecureContext | undefined): void {
    if (!this.host.accepting()) {
      raw.destroy();
      return;
    }
    raw.on('error', ignoreError);
    const own = normaliseIp(raw.remoteAddress ?? '');
    const proxy = this.proxy;
    if (proxy?.trusts(own)) {
      // A trusted proxy's connections are admitted by the client address its header names.
      proxy.readHeader(raw, own, {
        accept: (peer) => this.#admitFrom(raw, secure, peer, false),
        refuse: (reason) => this.#refuse(raw, reason, secure !== undefined),
      });
      return;
    }
    this.#admitFrom(raw, secure, { address: own, port: raw.remotePort ?? 0 }, proxy !== undefined);
  }

  /**
   * Reads the open-file limit (Linux) and leaves connections room below it:
   * the limit, minus the files open now, minus `reservedFds`. Called at listen.
   * Says so when that room, not `maxConnections`, is what bounds connections.
   */
  limitFds(): void {
    const limit = openFileLimit();
    if (limit === undefined) return;
    const { maxConnections, reservedFds } = this.host.limits;
    const room = Math.max(0, limit - (openFileCount() ?? 0) - reservedFds);
    this.#fdLimit = limit;
    this.admission.limitFds(room, () => {
      this.#fdErrors++;
      this.#logFdErrors('near the open-file limit');
    });
    if (maxConnections === 0 || room < maxConnections) {
      this.host.log.warn(
        `the open-file limit (ulimit -n ${limit}) leaves room for ${room} connections${maxConnections > 0 ? `, fewer than maxConnections ${maxConnections}` : ''}; raise it to serve more`,
      );
    }
  }

  /** Accept errors (EMFILE, ENFILE) do not stop a net.Server: logged, rate-limited, and survived. */
  listenerError(err: NodeJS.ErrnoException): void {
    if (err.code !== 'EMFILE' && err.code !== 'ENFILE') {
      this.host.log.error('listener error', err);
      return;
    }
    this.#fdErrors++;
    this.#logFdErrors(`out of file descriptors (${err.code})`);
  }

  #logFdErrors(what: string): void {
    const now = performance.now();
    if (now - this.#lastFdLog < EMFILE_LOG_INTERVAL_MS) return;
    this.#lastFdLog = now;
    const limit = this.#fdLimit === undefined ? '' : ` (ulimit -n ${this.#fdLimit}, reservedFds ${this.host.limits.reservedFds})`;
    this.host.log.error(
      `${what}: ${this.#fdErrors} connection(s) refused as 'server full' in the last ${EMFILE_LOG_INTERVAL_MS / 1000} s with ` +
        `${this.#accepted.size} sockets open${limit}; raise the limit (ulimit -n) or lower maxConnections`,
    );
    this.#fdErrors = 0;
  }

  /**
   * Shutdown, first step: waiting sockets go; clients that sent nothing yet are
   * line-protocol clients (told like the others); sockets still in the TLS
   * handshake, or plain HTTP, have no session to tell and are destroyed.
   */
  closeUnsessioned(): void {
    for (const e of this.#early ?? []) e.socket.destroy();
    this.#early = undefined;
    this.proxy?.close();
    for (const rec of this.#accepted) rec.settle?.();
    for (const rec of this.#accepted) if (!rec.session) rec.raw.destroy();
  }

  /** Shutdown, last step: whatever is still open goes. */
  destroyAll(): void {
    for (const rec of this.#accepted) rec.raw.destroy();
    this.#handshakes.clear();
  }

  /** Admission, handshake deadline, then TLS or the connection, for a client at `peer`; `screen`: refuse a PROXY header. */
  #admitFrom(raw: net.Socket, secure: tls.SecureContext | undefined, peer: ProxyEndpoint, screen: boolean): void {
    if (!this.host.accepting()) {
      raw.destroy();
      return;
    }
    const ip = normaliseIp(peer.address);
    const refusal = this.admission.admit(ip);
    if (refusal !== undefined) {
      this.#refuse(raw, refusal, secure !== undefined);
      return;
    }
    const rec: Accepted = { raw, ip, peer };
    this.#accepted.add(rec);
    // From accept, TLS included: a client that never finishes the handshake, or never
    // sends CONNECT, holds its socket no longer than handshakeTimeoutMs.
    rec.deadline = this.#handshakes.add(rec);
    raw.on('close', () => {
      this.#handshakes.cancel(rec.deadline);
      this.#accepted.delete(rec);
      this.admission.release(ip);
    });
    if (screen) {
      this.proxy!.screen(raw, { accept: () => this.#secure(raw, rec, secure), refuse: (reason) => this.#refuse(raw, reason, secure !== undefined) }, peer);
      return;
    }
    this.#secure(raw, rec, secure);
  }

  /** An accepted socket's handshake time is up: unless its session is connected, it goes. */
  #handshakeExpired(rec: Accepted): void {
    if (rec.session?.connected) return;
    rec.settle?.(); // silent so far: a line-protocol client, told why
    if (rec.session) rec.session.close('handshake timeout');
    else rec.raw.destroy();
  }

  /** TLS (when `secure`) and then the connection. */
  #secure(raw: net.Socket, rec: Accepted, secure: tls.SecureContext | undefined): void {
    if (!secure) {
      this.#accept(raw, rec);
      return;
    }
    const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: secure });
    let done = false;
    // Before the handshake completes, an error (tlsClientError) or the client's FIN ends it.
    const abort = (): void => {
      if (!done) socket.destroy();
    };
    socket.on('error', abort);
    socket.once('end', abort);
    socket.once('close', () => raw.destroy());
    socket.once('secure', () => {
      done = true;
      socket.off('error', abort);
      socket.off('end', abort);
      this.#accept(socket, rec);
    });
  }

  /** Tells a refused client why where the socket allows (plain TCP), then closes. */
  #refuse(raw: net.Socket, reason: Refusal | string, secure: boolean): void {
    if (secure) {
      // Before a TLS handshake a text line would be noise; finishing one for a refused
      // client would spend the CPU the refusal is saving.
      raw.destroy();
      return;
    }
    raw.end(`DISCONNECT: ${reason}\n`);
    raw.resume(); // read (and discard) until the client's FIN, so the socket can finish closing
    setTimeout(() => raw.destroy(), this.host.limits.closeGraceMs).unref();
  }

  #accept(socket: net.Socket, rec: Accepted): void {
    if (!this.host.accepting()) {
      socket.destroy();
      return;
    }
    if (this.#early) {
      this.#early.push({ socket, rec });
      return;
    }
    const http = this.host.http();
    if (!http) {
      this.#open(socket, rec); // handleSocket before listen: no HTTP side
      return;
    }
    // HTTP or the line protocol, told by the first bytes. The server says nothing
    // before CONNECT, so only the client's first data decides; a client that sends
    // nothing (until the handshake timeout or close) is a line-protocol client.
    let head: Buffer | undefined;
    const settle = (kind: 'http' | 'line'): void => {
      rec.settle = undefined;
      socket.off('data', onData);
      socket.off('end', onEnd);
      if (kind === 'http') this.#toHttp(http, socket, rec, head!);
      else this.#open(socket, rec, head);
    };
    const onData = (chunk: Buffer): void => {
      head = head === undefined ? chunk : Buffer.concat([head, chunk]);
      const kind = sniffProtocol(head);
      if (kind !== 'more') settle(kind);
    };
    const onEnd = (): void => settle('line');
    rec.settle = () => settle('line');
    if (socket !== rec.raw) socket.on('error', ignoreError); // TLS
    socket.on('data', onData);
    socket.once('end', onEnd);
    // A socket whose first bytes were read ahead (a PROXY header) waits paused, the rest put back.
    if (socket.isPaused()) socket.resume();
  }

  /** Hands an accepted socket whose first bytes are an HTTP request to the port's HTTP server. */
  #toHttp(http: HttpServer, socket: net.Socket, rec: Accepted, head: Buffer): void {
    this.#httpSockets.set(socket, rec);
    socket.pause();
    socket.unshift(head);
    http.emit('connection', socket);
    socket.resume();
  }

  #open(socket: net.Socket, rec: Accepted, first?: Buffer): void {
    rec.session = this.host.open(socket, rec.peer, first);
  }
}
