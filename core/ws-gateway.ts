/**
 * WebSocket clients on an application's own HTTP server (`server.attachHttp`),
 * as socket.io's `new Server(httpServer)`: takes the `upgrade`s of one path and
 * turns each into a {@link WsConnection} session of the server's kernel.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Limits } from './defaults.js';
import type { Logger } from './logger.js';
import type { Transport } from './session.js';
import type { WriteBatcher } from './write-batcher.js';
import { WsConnection, type WsConnectionHandlers, type WsOwner } from './ws-connection.js';
import { ignoreError, normaliseIp } from './connection.js';
import { ParleyError } from './errors.js';

export interface AttachHttpOptions {
  /** URL path of the WebSocket endpoint. Default '/parley'. */
  path?: string;
  /** The largest WebSocket message, in lines of `limits.maxLineBytes`. Default 4. */
  maxMessageLines?: number;
  /** permessage-deflate. Default false: compression costs memory per connection and CPU per message. */
  perMessageDeflate?: boolean;
}

export const DEFAULT_ATTACH_HTTP_OPTIONS: Readonly<Required<AttachHttpOptions>> = Object.freeze({
  path: '/parley',
  maxMessageLines: 4,
  perMessageDeflate: false,
});

/** What the gateway needs from its server. */
export interface GatewayHost {
  readonly limits: Readonly<Limits>;
  readonly batcher: WriteBatcher;
  readonly log: Logger;
  /** Resolves once plugins started; upgrades wait for it. */
  ready(): Promise<void>;
  /** False once the server is closing. */
  accepting(): boolean;
  /** Counts a connection from `ip`; false when over the per-IP limit. */
  admit(ip: string): boolean;
  release(ip: string): void;
  /** A new session for the transport, opened by the upgrade request `req`. */
  open(transport: Transport, req: IncomingMessage): WsConnectionHandlers;
}

export class WebSocketGateway implements WsOwner {
  readonly path: string;
  readonly #wss: WebSocketServer;
  readonly #connections = new Set<WsConnection>();
  readonly #pending = new Set<Duplex>();
  readonly #onUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  #closing: Promise<void> | undefined;
  /** Resolves `close()` once the last connection is gone. */
  #drained: (() => void) | undefined;

  constructor(
    private readonly host: GatewayHost,
    private readonly http: HttpServer | HttpsServer,
    options: AttachHttpOptions = {},
  ) {
    const opts = { ...DEFAULT_ATTACH_HTTP_OPTIONS, ...options };
    if (!opts.path.startsWith('/')) throw new ParleyError('PARLEY_ERR_INVALID_OPTION', 'path', `must start with "/", got ${opts.path}`);
    if (!Number.isInteger(opts.maxMessageLines) || opts.maxMessageLines < 1) {
      throw new ParleyError('PARLEY_ERR_INVALID_OPTION', 'maxMessageLines', `must be a positive integer, got ${opts.maxMessageLines}`);
    }
    this.path = opts.path;
    this.#wss = new WebSocketServer({
      noServer: true,
      // ws's default is 100 MiB: a message may hold only a few full lines.
      maxPayload: host.limits.maxLineBytes * opts.maxMessageLines,
      perMessageDeflate: opts.perMessageDeflate,
      clientTracking: false,
    });
    this.#onUpgrade = (req, socket, head) => this.#upgrade(req, socket, head);
    http.on('upgrade', this.#onUpgrade);
  }

  /** Open WebSocket connections. */
  get connectionCount(): number {
    return this.#connections.size;
  }

  /** Stops taking upgrades; resolves once every WebSocket of this gateway closed (the server closes their sessions). */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.http.off('upgrade', this.#onUpgrade);
      for (const s of this.#pending) s.destroy();
      if (this.#connections.size > 0) await new Promise<void>((resolve) => (this.#drained = resolve));
      this.#wss.close();
    })();
    return this.#closing;
  }

  #upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    if ((q === -1 ? url : url.slice(0, q)) !== this.path) {
      // Another listener (socket.io, the app) may own this path; alone, we refuse it rather than leave it hanging.
      if (this.http.listenerCount('upgrade') === 1) refuse(socket, 404, 'Not Found');
      return;
    }
    if (!this.host.accepting()) {
      refuse(socket, 503, 'Service Unavailable');
      return;
    }
    if (!socket.listeners('error').includes(ignoreError)) socket.on('error', ignoreError);
    this.#pending.add(socket);
    // The socket is not flowing until ws reads it, so nothing is lost while plugins start.
    this.host.ready().then(
      () => {
        this.#pending.delete(socket);
        if (socket.destroyed) return;
        if (!this.host.accepting()) return refuse(socket, 503, 'Service Unavailable');
        this.#wss.handleUpgrade(req, socket, head, (ws) => this.#connection(ws, req));
      },
      (err: unknown) => {
        this.#pending.delete(socket);
        this.host.log.error('WebSocket upgrade refused: plugins failed to start', err);
        refuse(socket, 503, 'Service Unavailable');
      },
    );
  }

  #connection(ws: WebSocket, req: IncomingMessage): void {
    const ip = normaliseIp(req.socket.remoteAddress ?? '');
    if (!this.host.admit(ip)) {
      ws.on('error', () => {});
      ws.send('DISCONNECT: too many connections from your address\n');
      ws.close(1008, 'too many connections from your address');
      setTimeout(() => ws.terminate(), this.host.limits.closeGraceMs).unref();
      return;
    }
    const conn = new WsConnection(ws, ip, req.socket.remotePort ?? 0, { headers: req.headers, url: req.url ?? '/' }, this.host.limits, this.host.batcher, this);
    this.#connections.add(conn);
    // ws handles the socket's errors from here on.
    req.socket.off('error', ignoreError);
    conn.start(this.host.open(conn, req));
  }

  /** A connection's WebSocket closed. */
  gone(conn: WsConnection): void {
    if (!this.#connections.delete(conn)) return;
    this.host.release(conn.remoteAddress);
    if (this.#connections.size === 0) this.#drained?.();
  }
}

function refuse(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  setTimeout(() => socket.destroy(), 1000).unref();
}
