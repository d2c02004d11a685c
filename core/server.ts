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
import { webHandler } from './web-handler.js';
import type { Server as HttpsServer } from 'node:https';
import { Admission } from './admission.js';
import { SocketIntake } from './socket-intake.js';
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

export { sniffProtocol } from './socket-intake.js';

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
  readonly #admission: Admission;
  /** Accept to transport: admission, PROXY, TLS, handshake deadline, sniffing. */
  readonly #intake: SocketIntake;
  readonly #tlsOptions: ServerOptions['tls'];
  #secureContext: tls.SecureContext | undefined;
  #net: net.Server | undefined;
  #nextId = 1;
  readonly #gateways: WebSocketGateway[] = [];
  readonly #web: boolean;
  /** Serves the HTTP connections of the listening port (the page and the WebSocket endpoint); never listens itself. */
  #http: HttpServer | undefined;
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
    this.#admission = new Admission(this.limits, options.exemptLoopback ?? true);
    this.#intake = new SocketIntake(
      {
        limits: this.limits,
        log: this.log,
        accepting: () => this.#state === 'new' || this.#state === 'listening',
        http: () => this.#http,
        open: (socket, peer, first) => this.#open(socket, peer, first),
      },
      this.#admission,
      options.proxyProtocol ? new ProxyGate(options.proxyProtocol) : undefined,
    );
    this.container = rootContainer.createChildContainer();
    const config = Object.freeze({ hostname: options.hostname ?? osHostname(), limits: this.limits, authenticate: options.authenticate });
    // The kernel reaches the plugins only through the host, created right after it.
    const plugins = { ownerOf: (v: string) => host.ownerOf(v), opened: (s: Session) => host.opened(s), closed: (s: Session, r: string) => host.closed(s, r) };
    this.#kernel = new Kernel(config, this.log, plugins, options.cluster);
    const host = new PluginHost(options.plugins ?? [], this.container, this.#kernel, this.log);
    this.#host = host;
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
    this.#intake.hold();
    // TLS is layered on each accepted TCP socket here (not by tls.Server), so that caps,
    // the handshake timer and close() cover a socket from accept, handshake included.
    if (this.#tlsOptions) this.#secureContext = tls.createSecureContext(this.#tlsOptions);
    this.#http = this.#portHttp();
    this.#intake.limitFds();
    const srv = net.createServer({ allowHalfOpen: true }, (raw) => this.#intake.admit(raw, this.#secureContext));
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
    srv.on('error', (err: NodeJS.ErrnoException) => this.#intake.listenerError(err));
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
    this.#intake.release();
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
    const host = this.#gatewayHost((session, req) => this.#intake.httpSessionOpened(req.socket, session));
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
    this.#intake.admit(socket, undefined);
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
    return this.#intake.socketCount;
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
    this.#intake.closeUnsessioned();
    const sockets = [...this.#connections].map((c) => new Promise<void>((r) => (c.socket.destroyed ? r() : c.socket.once('close', () => r()))));
    // Every session, socket-backed or attached, is told and closed.
    for (const session of [...this.#kernel.sessions.all()]) session.close('server shutting down');
    await Promise.all(sockets);
    await Promise.all(this.#gateways.map((g) => g.close()));
    this.#intake.destroyAll();
    await listenerClosed;
    await this.#host.stop();
    if (this.#starting) await this.#kernel.cluster.stop();
    this.#kernel.shutdown();
    await this.container.dispose();
    this.#state = 'closed';
  }

  #sender(from: string | undefined): string {
    const s = from ?? this.#kernel.config.hostname;
    if (!s || /[\s:]/.test(s)) throw new ParleyError('PARLEY_ERR_INVALID_OPTION', 'from', `"${s}" must be a non-empty word without spaces or colons`);
    return s;
  }

  /** A line-protocol client: its connection and session; `first` is what the sniffing read. */
  #open(socket: net.Socket, peer: ProxyEndpoint, first?: Buffer): Session {
    const conn = new Connection(socket, this.limits, this.#batcher, peer);
    this.#connections.add(conn);
    const session = new Session(this.#nextId++, conn, this.limits.maxLineBytes);
    this.#kernel.open(session);
    conn.start(new SessionLink(this.#tcpLinks, session), first);
    return session;
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
