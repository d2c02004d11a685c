/**
 * The embedding API: one server instance = one child container, its own kernel,
 * sessions, plugins and sockets. Two servers in one process share nothing.
 */
import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer, type InjectionToken } from 'tsyringe';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { hostname as osHostname } from 'node:os';
import type { Observable } from 'rxjs';
import { DEFAULT_HOST, DEFAULT_LIMITS, DEFAULT_PORT, type Limits } from './defaults.js';
import { ParleyError } from './errors.js';
import { createLogger, type Logger, type LogLevel } from './logger.js';
import { Kernel, type AuthHook } from './kernel.js';
import { PluginHost } from './plugin-host.js';
import { Connection } from './connection.js';
import { WriteBatcher } from './write-batcher.js';
import { Session, type Transport } from './session.js';
import type { Plugin } from './plugin.js';
import type { SessionLookup } from './session-registry.js';
import type { Action } from './of-verb.js';
import type { ServerEvent, PluginEvent, PluginFailure } from './events.js';
import type { ClientCommand } from './actions.js';
import { formatCommand, formatServer } from './codec.js';
import { CHANNEL_DIRECTORY } from './channel-directory.js';
import { WebSocketGateway, type AttachHttpOptions, type GatewayHost } from './ws-gateway.js';
import { createServer as createHttpServer, type Server as HttpServer, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { webHandler } from './web-handler.js';
import type { Server as HttpsServer } from 'node:https';
import { Admission, type Refusal } from './admission.js';
import { ignoreError, normaliseIp } from './connection.js';
import { DeadlineQueue, type Deadline } from './deadline-queue.js';
import { SessionLink, type LinkHost } from './session-link.js';
import type { Cluster, ClusterFactory } from './cluster/types.js';
import { ProxyGate, type ProxyProtocolOptions } from './proxy-gate.js';
import type { ProxyEndpoint } from './proxy-protocol.js';

export interface ServerOptions {
  /** Plugins in start order. Default: none (the package's `createServer` defaults to all built-ins). */
  plugins?: readonly Plugin[];
  /** Sent in `ACCEPT: <hostname>`. Default: the machine's hostname. */
  hostname?: string;
  /** Limits; each missing one takes its default from {@link DEFAULT_LIMITS}. */
  limits?: Partial<Limits>;
  /** Called with each `CONNECT` (and its optional token); false refuses with `AUTH_FAILED`. */
  authenticate?: AuthHook;
  /** Serve TLS instead of plain TCP. */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** A logger, or the level for the default stderr logger. Default: 'warn'. */
  logger?: Logger | LogLevel;
  /** Loopback clients skip the per-IP connection-rate throttle. Default true. */
  exemptLoopback?: boolean;
  /**
   * Makes this server one node of a cluster: `redisCluster({ url, prefix })`.
   * Default: a single in-memory node.
   */
  cluster?: ClusterFactory;
  /**
   * The web chat page at `/` of the listening port. Default true. The port tells
   * HTTP from the line protocol by a connection's first bytes (`GET `, `HEAD `);
   * WebSocket clients at `/parley` are served either way, the page only when true.
   */
  web?: boolean;
  /**
   * Accept the HAProxy PROXY protocol (v1 and v2) from these proxies: their
   * connections must start with a header, whose client address becomes the
   * session's (per-IP limits, voice). A header from any other address is refused.
   * Default: off.
   */
  proxyProtocol?: ProxyProtocolOptions;
}

/** One accepted TCP socket, from accept to close (TLS handshake included). */
interface Accepted {
  readonly raw: net.Socket;
  readonly ip: string;
  /** The client's address: the socket's, or the one its trusted proxy's PROXY header named. */
  readonly peer: ProxyEndpoint;
  session?: Session;
  conn?: Connection;
  /** Its handshake deadline, cancelled when the socket closes. */
  deadline?: Deadline<Accepted>;
  /** While the first bytes are awaited: gives the socket to the line protocol at once (timeout, close). */
  settle?: () => void;
}

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

/** Running out of file descriptors is logged at most this often. */
const EMFILE_LOG_INTERVAL_MS = 10_000;

export interface ListenOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 7420; 0 picks a free port. */
  port?: number;
}

/** A non-socket client attached with {@link ParleyServer.attach}. */
export interface AttachedClient {
  readonly session: Session;
  /** One line from the client, without its terminator. A returned promise: wait before the next line. */
  line(text: string): void | Promise<void>;
  /** The transport closed. */
  closed(reason: string): void;
}

export class ParleyServer {
  /** This server's child container: plugins' services resolve from here. */
  readonly container: DependencyContainer;
  readonly limits: Readonly<Limits>;
  readonly log: Logger;
  readonly #kernel: Kernel;
  readonly #host: PluginHost;
  #address: { host: string; port: number } | undefined;
  readonly #batcher: WriteBatcher;
  readonly #connections = new Set<Connection>();
  /** Every accepted TCP socket until it closes, so that caps and close() see TLS handshakes too. */
  readonly #accepted = new Set<Accepted>();
  readonly #admission: Admission;
  readonly #tlsOptions: ServerOptions['tls'];
  readonly #proxy: ProxyGate | undefined;
  #secureContext: tls.SecureContext | undefined;
  #net: net.Server | undefined;
  #early: { socket: net.Socket; rec: Accepted }[] | undefined;
  #lastFdLog = -Infinity;
  #fdErrors = 0;
  #nextId = 1;
  readonly #gateways: WebSocketGateway[] = [];
  readonly #web: boolean;
  /** Serves the HTTP connections of the listening port (the page and the WebSocket endpoint); never listens itself. */
  #http: HttpServer | undefined;
  /** Accepted sockets handed to HTTP, by socket, so that their WebSocket session counts as their handshake. */
  readonly #httpSockets = new WeakMap<Duplex, Accepted>();
  /** Accepted sockets in accept order, each checked when its handshake time is up. */
  readonly #handshakes: DeadlineQueue<Accepted>;
  /** What every TCP session's link calls; see session-link.ts. */
  readonly #tcpLinks: LinkHost;
  /** The same for WebSocket sessions. */
  readonly #wsLinks: LinkHost;
  #state: 'new' | 'listening' | 'closing' | 'closed' = 'new';
  #closing: Promise<void> | undefined;
  #starting: Promise<void> | undefined;

  constructor(options: ServerOptions = {}) {
    this.limits = Object.freeze(resolveLimits(options.limits));
    this.#batcher = new WriteBatcher({
      coalesceAbove: this.limits.coalesceAboveSockets,
      maxDelayMs: this.limits.maxCoalesceMs,
      bulkAbove: this.limits.bulkAboveRecipients,
      bulkSlice: this.limits.bulkSliceSockets,
    });
    this.log = typeof options.logger === 'object' ? options.logger : createLogger(options.logger ?? 'warn');
    this.#tlsOptions = options.tls;
    this.#web = options.web ?? true;
    this.#proxy = options.proxyProtocol ? new ProxyGate(options.proxyProtocol) : undefined;
    this.#admission = new Admission(this.limits, options.exemptLoopback ?? true);
    this.container = rootContainer.createChildContainer();
    const config = Object.freeze({ hostname: options.hostname ?? osHostname(), limits: this.limits, authenticate: options.authenticate });
    // The kernel reaches the plugins only through the host, created right after it.
    const plugins = { ownerOf: (v: string) => host.ownerOf(v), opened: (s: Session) => host.opened(s), closed: (s: Session, r: string) => host.closed(s, r) };
    this.#kernel = new Kernel(config, this.log, plugins, options.cluster);
    const host = new PluginHost(options.plugins ?? [], this.container, this.#kernel, this.log);
    this.#host = host;
    this.#handshakes = new DeadlineQueue(this.limits.handshakeTimeoutMs, (rec) => this.#handshakeExpired(rec));
    const binary = (session: Session, data: Buffer): void => {
      if (!session.connected) this.#kernel.reply(session, 'NOT_CONNECTED');
      else if (!host.binary(session, data)) this.#kernel.reply(session, 'BAD_SYNTAX', 'binary messages are reserved for voice frames');
    };
    this.#tcpLinks = {
      kernel: this.#kernel,
      binary,
      closed: (link) => this.#connections.delete(link.session.transport as Connection),
    };
    this.#wsLinks = { kernel: this.#kernel, binary };
  }

  /** An accepted socket's handshake time is up: unless its session is connected, it goes. */
  #handshakeExpired(rec: Accepted): void {
    if (rec.session?.connected) return;
    rec.settle?.(); // silent so far: a line-protocol client, told why
    if (rec.session) rec.session.close('handshake timeout');
    else rec.raw.destroy();
  }

  /** Every parsed action from every client. */
  get actions$(): Observable<Action> {
    return this.#kernel.actions$;
  }
  /** connected, joined, message, left, closed. */
  get events$(): Observable<ServerEvent | PluginEvent> {
    return this.#kernel.events$;
  }
  /** Plugin failures (each answered `ERROR INTERNAL` to its client). */
  get errors$(): Observable<PluginFailure> {
    return this.#kernel.errors$;
  }

  /** Connected sessions by nick: `server.sessions.byNick('alice')?.data` reads what the auth hook returned. */
  get sessions(): SessionLookup {
    return this.#kernel.sessions;
  }

  /** The cluster this server is a node of (a single in-memory node by default). */
  get cluster(): Cluster {
    return this.#kernel.cluster;
  }

  /** Resolves a plugin's service from this server's container. */
  resolve<T>(token: InjectionToken<T>): T {
    return this.container.resolve(token);
  }

  /**
   * Binds the TCP (or TLS) port, then starts the plugins.
   * @returns the bound address (port 0 picks a free one)
   */
  async listen(opts: ListenOptions = {}): Promise<{ host: string; port: number }> {
    if (this.#state !== 'new') throw new ParleyError(this.#state === 'listening' ? 'PARLEY_ERR_ALREADY_LISTENING' : 'PARLEY_ERR_CLOSED');
    this.#state = 'listening';
    this.#early = [];
    // TLS is layered on each accepted TCP socket here (not by tls.Server), so that caps,
    // the handshake timer and close() cover a socket from accept, handshake included.
    if (this.#tlsOptions) this.#secureContext = tls.createSecureContext(this.#tlsOptions);
    this.#http = this.#portHttp();
    const srv = net.createServer({ allowHalfOpen: true }, (raw) => this.#admit(raw, this.#secureContext));
    this.#net = srv;
    const host = opts.host ?? DEFAULT_HOST;
    await new Promise<void>((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(opts.port ?? DEFAULT_PORT, host, () => {
        srv.off('error', reject);
        resolve();
      });
    });
    // Accept errors (EMFILE, ENFILE) do not stop a net.Server: log them, rate-limited, and go on.
    srv.on('error', (err: NodeJS.ErrnoException) => this.#listenerError(err));
    const addr = srv.address() as net.AddressInfo;
    this.#address = { host: addr.address, port: addr.port };
    this.#host.address = { ...this.#address, ephemeral: (opts.port ?? DEFAULT_PORT) === 0 };
    try {
      await this.start();
    } catch (err) {
      await this.close();
      throw err;
    }
    // Sockets accepted while plugins started wait until now.
    const early = this.#early;
    this.#early = undefined;
    for (const e of early) this.#accept(e.socket, e.rec);
    this.log.info(`listening on ${addr.address}:${addr.port}${this.#tlsOptions ? ' (TLS)' : ''}`);
    return { ...this.#address };
  }

  /**
   * Starts the plugins (once). `listen` calls it; call it yourself only to run
   * a server without a port, with clients attached through {@link attach}.
   */
  start(): Promise<void> {
    this.#starting ??= (async () => {
      await this.#kernel.cluster.start();
      await this.#host.start();
    })();
    return this.#starting;
  }

  /**
   * Attaches a client that is not a TCP socket (a WebSocket bridge, a test).
   * Feed its lines to `line`; when the transport closes (also when the server
   * calls `transport.close`), call `closed` once.
   */
  attach(transport: Transport): AttachedClient {
    const session = new Session(this.#nextId++, transport, this.limits.maxLineBytes);
    this.#kernel.open(session);
    return {
      session,
      line: (text) => this.#kernel.text(session, text),
      closed: (reason) => this.#kernel.closed(session, reason),
    };
  }

  /**
   * Serves WebSocket clients on an existing HTTP(S) server (Express, Fastify...):
   * upgrades on `path` become clients, with the limits of TCP clients. Starts the
   * plugins if `listen` has not. The authentication hook sees the upgrade request.
   * @example
   * const http = createHttpServer(app);
   * server.attachHttp(http, { path: '/parley' });
   * http.listen(8080);
   */
  attachHttp(httpServer: HttpServer | HttpsServer, options?: AttachHttpOptions): WebSocketGateway {
    if (this.#state === 'closing' || this.#state === 'closed') throw new ParleyError('PARLEY_ERR_CLOSED');
    const gateway = new WebSocketGateway(this.#gatewayHost(), httpServer, options);
    this.#gateways.push(gateway);
    return gateway;
  }

  /** The HTTP side of the listening port: the page (unless `web: false`) and the WebSocket endpoint at `/parley`. */
  #portHttp(): HttpServer {
    const page = this.#web ? webHandler() : undefined;
    const http = createHttpServer((req, res) => {
      if (page) page(req, res);
      else res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
    });
    // The handshake timer of the accepted socket bounds an HTTP connection that never becomes a session.
    http.keepAliveTimeout = 5000;
    const host = this.#gatewayHost((session, req) => {
      const rec = this.#httpSockets.get(req.socket);
      if (rec) rec.session = session;
    });
    // Counted already when the TCP connection was accepted.
    const gateway = new WebSocketGateway({ ...host, admit: () => true, release: () => {} }, http);
    this.#gateways.push(gateway);
    return http;
  }

  #gatewayHost(opened?: (session: Session, req: IncomingMessage) => void): GatewayHost {
    return {
      limits: this.limits,
      batcher: this.#batcher,
      log: this.log,
      ready: () => this.start(),
      accepting: () => this.#state === 'new' || this.#state === 'listening',
      admit: (ip) => this.#admission.admit(ip) === undefined,
      release: (ip) => this.#admission.release(ip),
      open: (transport, req) => {
        const session = new Session(this.#nextId++, transport, this.limits.maxLineBytes);
        opened?.(session, req);
        this.#kernel.open(session);
        return new SessionLink(this.#wsLinks, session);
      },
    };
  }

  /** The bound address; throws before `listen`. */
  address(): { host: string; port: number } {
    if (!this.#address) throw new ParleyError('PARLEY_ERR_NOT_LISTENING');
    return { ...this.#address };
  }

  /**
   * Takes a socket accepted elsewhere (another `net.Server`, a test pipe) as a client.
   * Works without `listen`, but plugins start only in `listen`.
   */
  handleSocket(socket: net.Socket): void {
    this.#admit(socket, undefined);
  }

  /**
   * Sends `MSG <from> <nick>: <text>` to a connected user. On a cluster, a user
   * on another node is reached through the cluster: then the returned promise
   * rejects with PARLEY_ERR_NO_SUCH_USER when no node holds the nick.
   */
  send(nick: string, text: string, opts: { from?: string } = {}): void | Promise<void> {
    const from = this.#sender(opts.from);
    const r = this.#kernel.cluster.sendMessage(from, nick, text);
    const done = (ok: boolean): void => {
      if (!ok) throw new ParleyError('PARLEY_ERR_NO_SUCH_USER', nick);
      this.#kernel.emit({ type: 'message', from, to: this.#kernel.sessions.byNick(nick)?.nick ?? nick, text });
    };
    // A single node answers at once (and throws at once); a user on another node takes a round trip.
    if (typeof r === 'boolean') return done(r);
    return r.then(done);
  }

  /**
   * Sends `MSG <from> <#channel>: <text>` to every member of a channel (needs the
   * channels plugin), or `MSG <from> <nick>: <text>` to every connected user.
   * @returns how many users it reached
   */
  broadcast(text: string, opts: { channel?: string; from?: string } = {}): number {
    const from = this.#sender(opts.from);
    if (opts.channel !== undefined) {
      const dir = this.container.isRegistered(CHANNEL_DIRECTORY, true) ? this.container.resolve(CHANNEL_DIRECTORY) : undefined;
      if (!dir) throw new ParleyError('PARLEY_ERR_NO_PROVIDER', 'channels', 'channels');
      const members = dir.members(opts.channel);
      const channel = dir.spelling(opts.channel) ?? opts.channel;
      const buf = Buffer.from(formatServer({ type: 'MSG', sender: from, recipient: channel, text }, this.limits.maxLineBytes));
      // Through the cluster even without local members: other nodes may have some.
      this.#kernel.cluster.toChannel(channel, buf);
      if (!members) return 0;
      this.#kernel.emit({ type: 'message', from, to: channel, text });
      return members.size;
    }
    const n = this.#kernel.cluster.broadcastAll(from, text);
    this.#kernel.emit({ type: 'message', from, to: '*', text });
    return n;
  }

  /**
   * Injects a command as if the connected user `nick` had sent it: it goes
   * through the same parsing, routing and replies.
   * @example server.dispatch('alice', { verb: 'JOIN', channel: '#ops' })
   */
  dispatch(nick: string, command: ClientCommand | string): void {
    const session = this.#kernel.sessions.byNick(nick);
    if (!session) throw new ParleyError('PARLEY_ERR_NO_SUCH_USER', nick);
    const line = typeof command === 'string' ? command : formatCommand(command).slice(0, -1);
    void this.#kernel.text(session, line);
  }

  /** Number of open client connections. */
  get connectionCount(): number {
    return this.#kernel.sessions.size;
  }

  /** Open TCP sockets, from accept to close: TLS handshakes and refused sockets not yet closed included. */
  get socketCount(): number {
    return this.#accepted.size + (this.#proxy?.pending ?? 0);
  }

  /**
   * Stops accepting, sends `DISCONNECT: server shutting down` to every client,
   * waits for every socket to close (destroying stragglers after the grace
   * period), stops the plugins in reverse order and disposes the container.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#state = 'closing';
    const srv = this.#net;
    const listenerClosed = srv?.listening ? new Promise<void>((r) => srv.close(() => r())) : Promise.resolve();
    for (const e of this.#early ?? []) e.socket.destroy();
    this.#proxy?.close();
    // Clients that sent nothing yet are line-protocol clients, told like the others;
    // sockets still in the TLS handshake, or plain HTTP, have no session to tell.
    for (const rec of this.#accepted) rec.settle?.();
    for (const rec of this.#accepted) if (!rec.session) rec.raw.destroy();
    const sockets = [...this.#connections].map((c) => new Promise<void>((r) => (c.socket.destroyed ? r() : c.socket.once('close', () => r()))));
    // Every session, socket-backed or attached, is told and closed.
    for (const session of [...this.#kernel.sessions.all()]) session.close('server shutting down');
    await Promise.all(sockets);
    await Promise.all(this.#gateways.map((g) => g.close()));
    for (const rec of this.#accepted) rec.raw.destroy();
    await listenerClosed;
    await this.#host.stop();
    if (this.#starting) await this.#kernel.cluster.stop();
    this.#kernel.shutdown();
    this.#handshakes.clear();
    await this.container.dispose();
    this.#state = 'closed';
  }

  #sender(from: string | undefined): string {
    const s = from ?? this.#kernel.config.hostname;
    if (!s || /[\s:]/.test(s)) throw new ParleyError('PARLEY_ERR_INVALID_OPTION', 'from', `"${s}" must be a non-empty word without spaces or colons`);
    return s;
  }

  /**
   * A new TCP socket: admission (caps and throttle), the handshake timer from
   * accept, then TLS (when `secure`) or the connection itself.
   */
  #admit(raw: net.Socket, secure: tls.SecureContext | undefined): void {
    if (this.#state !== 'listening' && this.#state !== 'new') {
      raw.destroy();
      return;
    }
    raw.on('error', ignoreError);
    const own = normaliseIp(raw.remoteAddress ?? '');
    const proxy = this.#proxy;
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

  /** Admission, handshake timer, then TLS or the connection, for a client at `peer`; `screen`: refuse a PROXY header. */
  #admitFrom(raw: net.Socket, secure: tls.SecureContext | undefined, peer: ProxyEndpoint, screen: boolean): void {
    if (this.#state !== 'listening' && this.#state !== 'new') {
      raw.destroy();
      return;
    }
    const ip = normaliseIp(peer.address);
    const refusal = this.#admission.admit(ip);
    if (refusal !== undefined) {
      this.#refuse(raw, refusal, secure !== undefined);
      return;
    }
    const rec: Accepted = { raw, ip, peer };
    this.#accepted.add(rec);
    // From accept, TLS included: a client that never finishes the handshake, or never
    // sends CONNECT, holds its socket no longer than handshakeTimeoutMs (#handshakeExpired).
    rec.deadline = this.#handshakes.add(rec);
    raw.on('close', () => {
      this.#handshakes.cancel(rec.deadline);
      this.#accepted.delete(rec);
      this.#admission.release(ip);
    });
    if (screen) {
      this.#proxy!.screen(raw, { accept: () => this.#secure(raw, rec, secure), refuse: (reason) => this.#refuse(raw, reason, secure !== undefined) }, peer);
      return;
    }
    this.#secure(raw, rec, secure);
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
    setTimeout(() => raw.destroy(), this.limits.closeGraceMs).unref();
  }

  #listenerError(err: NodeJS.ErrnoException): void {
    if (err.code !== 'EMFILE' && err.code !== 'ENFILE') {
      this.log.error('listener error', err);
      return;
    }
    this.#fdErrors++;
    const now = performance.now();
    if (now - this.#lastFdLog < EMFILE_LOG_INTERVAL_MS) return;
    this.#lastFdLog = now;
    this.log.error(
      `out of file descriptors (${err.code}): ${this.#fdErrors} connection(s) refused in the last ${EMFILE_LOG_INTERVAL_MS / 1000} s; ` +
        `${this.#accepted.size} sockets open; raise the limit (ulimit -n) or lower maxConnections`,
    );
    this.#fdErrors = 0;
  }

  #accept(socket: net.Socket, rec: Accepted): void {
    if (this.#state !== 'listening' && this.#state !== 'new') {
      socket.destroy();
      return;
    }
    if (this.#early) {
      this.#early.push({ socket, rec });
      return;
    }
    if (!this.#http) {
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
      if (kind === 'http') this.#toHttp(socket, rec, head!);
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
  #toHttp(socket: net.Socket, rec: Accepted, head: Buffer): void {
    this.#httpSockets.set(socket, rec);
    socket.pause();
    socket.unshift(head);
    this.#http!.emit('connection', socket);
    socket.resume();
  }

  /** A line-protocol client: its connection and session; `first` is what the sniffing read. */
  #open(socket: net.Socket, rec: Accepted, first?: Buffer): void {
    const conn = new Connection(socket, this.limits, this.#batcher, rec.peer);
    this.#connections.add(conn);
    const session = new Session(this.#nextId++, conn, this.limits.maxLineBytes);
    rec.conn = conn;
    rec.session = session;
    this.#kernel.open(session);
    conn.start(new SessionLink(this.#tcpLinks, session), first);
  }
}

function resolveLimits(given: Partial<Limits> | undefined): Limits {
  const limits: Limits = { ...DEFAULT_LIMITS };
  for (const [k, v] of Object.entries(given ?? {})) {
    if (!(k in DEFAULT_LIMITS)) throw new ParleyError('PARLEY_ERR_INVALID_OPTION', `limits.${k}`, 'unknown limit');
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
      throw new ParleyError('PARLEY_ERR_INVALID_OPTION', `limits.${k}`, `expected a non-negative number, got ${String(v)}`);
    }
    (limits as unknown as Record<string, number>)[k] = v;
  }
  if (limits.maxLineBytes < 64) throw new ParleyError('PARLEY_ERR_INVALID_OPTION', 'limits.maxLineBytes', 'must be at least 64');
  if (limits.rateLimit > 0 && limits.rateBurst < 1) throw new ParleyError('PARLEY_ERR_INVALID_OPTION', 'limits.rateBurst', 'must be at least 1');
  if (limits.bulkSliceSockets < 1) throw new ParleyError('PARLEY_ERR_INVALID_OPTION', 'limits.bulkSliceSockets', 'must be at least 1');
  return limits;
}
