/**
 * A typed client of the parley text protocol, for tests, load generators and
 * bots. Framing and parsing come from core's codec, so the client and the server
 * read the protocol the same way.
 */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { Subject, type Observable } from 'rxjs';
import { formatCommand, formatCustomCommand, parseCustomServerLine, parseServerLine } from '../../core/codec.js';
import { LineSplitter, LINE_TOO_LONG } from '../../core/line-splitter.js';
import { foldCase } from '../../core/names.js';
import { PROTOCOL_VERSION } from '../../core/defaults.js';
import type { ClientCommand, ServerMessage, ServerMessageMap, ServerMessageType } from '../../core/actions.js';

export interface ClientOptions {
  /** Default 127.0.0.1. */
  host?: string;
  port: number;
  /** Connect with TLS; an object is passed to `tls.connect`. Default false. */
  tls?: boolean | tls.ConnectionOptions;
  /** Answer `PING: n` with `PONG: n`. Default true. */
  autoPong?: boolean;
  /** Default timeout of `waitFor`, `open` and `close`, in milliseconds. Default 5000. */
  timeoutMs?: number;
  /** Received messages kept for `waitFor`; the oldest are dropped past it. Default 10 000. */
  inboxLimit?: number;
}

export interface ConnectOptions extends ClientOptions {
  nick: string;
  /** Default ''. */
  realname?: string;
  /** Default the protocol version the package speaks. */
  version?: string;
  /** The optional fourth `CONNECT` token, for the server's authentication hook. */
  token?: string;
}

/** A failed request: the `CODE` of `ERROR CODE: text`, or 'TIMEOUT' or 'CLOSED'. */
export class ClientError extends Error {
  readonly code: string;
  constructor(code: string, text: string) {
    super(`${code}: ${text}`);
    this.name = 'ClientError';
    this.code = code;
  }
}

/** Longest server line the client accepts; servers send at most their own line limit. */
const CLIENT_MAX_LINE = 1024 * 1024;

type ListMessage = ServerMessageMap['USERLIST'] | ServerMessageMap['TALKLIST'];

interface Waiter {
  pick(m: ServerMessage): boolean;
  /** Only messages delivered after this sequence number match. */
  after: number;
  resolve(m: ServerMessage): void;
  reject(err: ClientError): void;
  timer: NodeJS.Timeout;
}

/**
 * One connection to a parley server. Received messages wait in an inbox until
 * `waitFor` (or a request method) consumes them. Request methods (`join`,
 * `leave`, `talkRequest`, `talkJoin`, `hello`) take the first matching reply or
 * `ERROR` that arrives after their command was sent, so stale inbox entries never
 * answer them; with several commands in flight, an `ERROR` goes to the first waiter.
 * @example
 * const alice = await ParleyClient.connect({ port, nick: 'alice' });
 * await alice.join('#dev');
 * alice.say('#dev', 'hello');
 * const msg = await alice.waitFor('MSG', (m) => m.sender === 'bob');
 * await alice.close();
 */
export class ParleyClient {
  /**
   * Every parsed server message, as it arrives. Unlike the inbox, a `USERLIST`
   * or `TALKLIST` split over several lines comes as several messages here.
   */
  readonly messages$: Observable<ServerMessage>;
  /** Resolves once the socket closed, with the reason of the last `DISCONNECT: reason` received. */
  readonly done: Promise<string | undefined>;

  readonly #opts: Required<Omit<ClientOptions, 'tls'>> & { tls: ClientOptions['tls'] };
  readonly #messages = new Subject<ServerMessage>();
  readonly #splitter = new LineSplitter(CLIENT_MAX_LINE);
  #socket: net.Socket | undefined;
  #nick = '';
  #closed = false;
  #disconnectReason: string | undefined;
  #lastError: Error | undefined;
  #resolveDone!: (reason: string | undefined) => void;
  /** Delivered messages not yet consumed, oldest first, each with its sequence number. */
  #inbox: { seq: number; msg: ServerMessage }[] = [];
  #seq = 0;
  #waiters: Waiter[] = [];
  /** A list whose continuation lines may still arrive; delivered once complete. */
  #pendingList: ListMessage | undefined;
  #flushScheduled = false;

  constructor(opts: ClientOptions) {
    this.#opts = {
      host: opts.host ?? '127.0.0.1',
      port: opts.port,
      tls: opts.tls,
      autoPong: opts.autoPong ?? true,
      timeoutMs: opts.timeoutMs ?? 5000,
      inboxLimit: opts.inboxLimit ?? 10_000,
    };
    this.messages$ = this.#messages.asObservable();
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
  }

  /**
   * Opens a connection and sends `CONNECT`.
   * @returns the connected client
   * @throws ClientError with the server's code when `CONNECT` is refused (the socket is then closed)
   */
  static async connect(opts: ConnectOptions): Promise<ParleyClient> {
    const client = new ParleyClient(opts);
    try {
      await client.open();
      await client.hello(opts.nick, opts.realname, opts.version, opts.token);
      return client;
    } catch (err) {
      client.destroy();
      throw err;
    }
  }

  /** The nickname the server accepted; '' before that. */
  get nick(): string {
    return this.#nick;
  }

  /** True once the socket closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Opens the TCP (or TLS) connection; sends nothing. */
  open(): Promise<void> {
    if (this.#socket) throw new Error('ParleyClient.open: already opened');
    const { host, port, timeoutMs } = this.#opts;
    const useTls = this.#opts.tls !== undefined && this.#opts.tls !== false;
    const extra = typeof this.#opts.tls === 'object' ? this.#opts.tls : {};
    const socket = useTls ? tls.connect({ host, port, ...extra }) : net.connect({ host, port });
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    // Errors end in 'close', which rejects whatever waits.
    socket.on('error', (err) => (this.#lastError = err));
    socket.on('close', () => this.#onClose());
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new ClientError('TIMEOUT', `connecting to ${host}:${port} took over ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once(useTls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('close', () => {
        clearTimeout(timer);
        const why = this.#lastError ? `: ${this.#lastError.message}` : '';
        reject(new ClientError('CLOSED', `connection to ${host}:${port} closed before it opened${why}`));
      });
    });
  }

  /**
   * Sends `CONNECT` and waits for `ACCEPT`.
   * @param realname default ''
   * @param version default the package's protocol version
   * @param token the optional fourth `CONNECT` token
   * @returns the server's hostname from `ACCEPT`
   * @throws ClientError with the server's code (the connection stays open for another try)
   */
  async hello(nick: string, realname = '', version: string = PROTOCOL_VERSION, token?: string): Promise<string> {
    const cmd: ClientCommand = { verb: 'CONNECT', nick, realname, version };
    if (token !== undefined) cmd.token = token;
    const reply = await this.#request(cmd, (m) => m.type === 'ACCEPT' || m.type === 'ERROR');
    const accept = expectType(reply, 'ACCEPT');
    this.#nick = nick;
    return accept.hostname;
  }

  /** Sends one command. */
  send(cmd: ClientCommand): void {
    this.sendRaw(formatCommand(cmd));
  }

  /**
   * Sends a command of a verb a plugin added; its replies arrive as `CUSTOM` messages.
   * @example
   * client.command('ECHO', [], 'hi');
   * const reply = await client.waitFor('CUSTOM', (m) => m.verb === 'ECHOED');
   * @throws TypeError for a verb or argument that cannot be put on the wire
   */
  command(verb: string, args: readonly string[] = [], payload?: string): void {
    this.sendRaw(formatCustomCommand(payload === undefined ? { verb, args: [...args] } : { verb, args: [...args], payload }));
  }

  /**
   * Writes bytes as they are (for malformed input); nothing is appended.
   * @throws ClientError('CLOSED') once the socket closed
   */
  sendRaw(data: string | Buffer): void {
    const socket = this.#socket;
    if (!socket) throw new Error('ParleyClient: open() first');
    if (this.#closed) throw new ClientError('CLOSED', 'the connection is closed');
    if (socket.writable) socket.write(data);
  }

  /**
   * Joins a channel.
   * @returns the members (`USERLIST`, several lines joined), the client included
   * @throws ClientError on an `ERROR` reply
   */
  async join(channel: string): Promise<string[]> {
    const joined = await this.#request({ verb: 'JOIN', channel }, (m) => (m.type === 'JOINED' && sameName(m.channel, channel)) || m.type === 'ERROR');
    expectType(joined.msg, 'JOINED');
    const list = await this.#expect((m) => m.type === 'USERLIST' && sameName(m.channel, channel), joined.seq);
    return expectType(list.msg, 'USERLIST').nicks;
  }

  /** Leaves a channel; resolves on `LEFT`, throws ClientError on an `ERROR` reply. */
  async leave(channel: string): Promise<void> {
    const reply = await this.#request({ verb: 'LEAVE', channel }, (m) => (m.type === 'LEFT' && sameName(m.channel, channel)) || m.type === 'ERROR');
    expectType(reply, 'LEFT');
  }

  /** Sends `MSG <target>: <text>` to a channel or a nickname. */
  say(target: string, text: string): void {
    this.send({ verb: 'MSG', target, text });
  }

  /**
   * Asks `nick` for a call.
   * @returns the talk's session key
   * @throws ClientError on an `ERROR` reply (BUSY, NO_SUCH_USER...)
   */
  async talkRequest(nick: string): Promise<string> {
    const reply = await this.#request(
      { verb: 'TALK', target: nick, keyword: 'REQUEST' },
      (m) => (m.type === 'TALK' && m.event === 'REQUEST' && sameName(m.peer, nick)) || m.type === 'ERROR',
    );
    return expectType(reply, 'TALK').key;
  }

  talkAccept(nick: string, key: string): void {
    this.send({ verb: 'TALK', target: nick, key, keyword: 'ACCEPT' });
  }

  talkDeny(nick: string, key: string): void {
    this.send({ verb: 'TALK', target: nick, key, keyword: 'DENY' });
  }

  /** Hangs up a 1:1 talk (`peerOrChannel` is the peer's nick) or leaves a channel's group voice. */
  talkEnd(peerOrChannel: string, key: string): void {
    this.send({ verb: 'TALK', target: peerOrChannel, key, keyword: 'END' });
  }

  /**
   * Joins a channel's group voice.
   * @returns the talk key and everyone in the group voice (`TALKLIST`, several lines joined)
   * @throws ClientError on an `ERROR` reply
   */
  async talkJoin(channel: string): Promise<{ key: string; nicks: string[] }> {
    const joined = await this.#request(
      { verb: 'TALK', target: channel, keyword: 'JOIN' },
      (m) => (m.type === 'TALK' && m.event === 'JOINED' && sameName(m.peer, channel)) || m.type === 'ERROR',
    );
    const key = expectType(joined.msg, 'TALK').key;
    const list = await this.#expect((m) => m.type === 'TALKLIST' && sameName(m.channel, channel), joined.seq);
    return { key, nicks: expectType(list.msg, 'TALKLIST').nicks };
  }

  /**
   * Resolves with the earliest matching message not yet consumed (searching the
   * inbox of already received messages first, then waiting), removing it from the inbox.
   * @param timeoutMs default the client's `timeoutMs`
   * @throws ClientError('TIMEOUT') after the timeout, ClientError('CLOSED') if the socket closes first
   */
  async waitFor<T extends ServerMessageType>(type: T, match?: (m: ServerMessageMap[T]) => boolean, timeoutMs?: number): Promise<ServerMessageMap[T]> {
    const got = await this.#expect((m) => m.type === type && (match === undefined || match(m as ServerMessageMap[T])), 0, timeoutMs, type);
    return got.msg as ServerMessageMap[T];
  }

  /** Waits for an `ERROR`, of the given code if one is given. */
  waitForError(code?: string, timeoutMs?: number): Promise<ServerMessageMap['ERROR']> {
    return this.waitFor('ERROR', code === undefined ? undefined : (m) => m.code === code, timeoutMs);
  }

  /** Received messages not yet consumed by `waitFor`, oldest first (a copy). */
  inbox(): ServerMessage[] {
    this.#flushList();
    return this.#inbox.map((e) => e.msg);
  }

  /**
   * Sends `DISCONNECT` and waits for the server to close the socket; destroys it
   * after `timeoutMs`. Resolves at once when already closed.
   */
  async close(): Promise<void> {
    const socket = this.#socket;
    if (!socket || this.#closed) return;
    if (socket.writable) socket.write('DISCONNECT\n');
    const timer = setTimeout(() => socket.destroy(), this.#opts.timeoutMs);
    await this.done;
    clearTimeout(timer);
  }

  /** Closes the socket at once. */
  destroy(): void {
    this.#socket?.destroy();
    if (!this.#socket) this.#onClose();
  }

  #onData(chunk: Buffer): void {
    this.#splitter.push(chunk);
    for (;;) {
      const line = this.#splitter.shift();
      if (line === undefined) break;
      if (line === LINE_TOO_LONG) continue;
      const text = line.toString('utf8');
      const msg = parseServerLine(text) ?? parseCustomServerLine(text);
      if (msg !== undefined) this.#receive(msg);
    }
    // Lists are written in one go, so a read burst ends with the whole list (libuv
    // reads everything available before the check phase runs setImmediate).
    if (this.#pendingList && !this.#flushScheduled) {
      this.#flushScheduled = true;
      setImmediate(() => {
        this.#flushScheduled = false;
        this.#flushList();
      });
    }
  }

  #receive(msg: ServerMessage): void {
    if (msg.type === 'PING' && this.#opts.autoPong && this.#socket?.writable) this.#socket.write(formatCommand({ verb: 'PONG', value: msg.value }));
    if (msg.type === 'DISCONNECT') this.#disconnectReason = msg.reason;
    this.#messages.next(msg);
    if (msg.type === 'USERLIST' || msg.type === 'TALKLIST') {
      const p = this.#pendingList;
      if (p && p.type === msg.type && p.channel === msg.channel) {
        p.nicks.push(...msg.nicks);
        return;
      }
      this.#flushList();
      this.#pendingList = { ...msg, nicks: [...msg.nicks] };
      return;
    }
    this.#flushList();
    this.#deliver(msg);
  }

  #flushList(): void {
    const p = this.#pendingList;
    if (!p) return;
    this.#pendingList = undefined;
    this.#deliver(p);
  }

  /** Hands a complete message to the first waiter that wants it, or to the inbox. */
  #deliver(msg: ServerMessage): void {
    const seq = ++this.#seq;
    for (let i = 0; i < this.#waiters.length; i++) {
      const w = this.#waiters[i]!;
      if (seq > w.after && w.pick(msg)) {
        this.#waiters.splice(i, 1);
        clearTimeout(w.timer);
        w.resolve(msg);
        return;
      }
    }
    this.#inbox.push({ seq, msg });
    if (this.#inbox.length > this.#opts.inboxLimit) this.#inbox.shift();
  }

  /**
   * Sends `cmd` and waits for the first message after it that `pick` accepts. The
   * sequence number taken before sending keeps stale replies in the inbox out.
   */
  async #request(cmd: ClientCommand, pick: (m: ServerMessage) => boolean): Promise<{ seq: number; msg: ServerMessage }> {
    this.#flushList();
    const after = this.#seq;
    this.send(cmd);
    return this.#expect(pick, after, undefined, cmd.verb);
  }

  #expect(pick: (m: ServerMessage) => boolean, after: number, timeoutMs = this.#opts.timeoutMs, what = 'reply'): Promise<{ seq: number; msg: ServerMessage }> {
    this.#flushList();
    const i = this.#inbox.findIndex((e) => e.seq > after && pick(e.msg));
    if (i !== -1) {
      const [e] = this.#inbox.splice(i, 1);
      return Promise.resolve(e!);
    }
    if (this.#closed) return Promise.reject(new ClientError('CLOSED', `connection closed while waiting for ${what}`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        pick,
        after,
        resolve: (msg) => resolve({ seq: this.#seq, msg }),
        reject,
        timer: setTimeout(() => {
          this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
          reject(new ClientError('TIMEOUT', `no ${what} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      this.#waiters.push(waiter);
    });
  }

  #onClose(): void {
    if (this.#closed) return;
    this.#flushList();
    this.#closed = true;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) {
      clearTimeout(w.timer);
      w.reject(new ClientError('CLOSED', 'connection closed'));
    }
    this.#messages.complete();
    this.#resolveDone(this.#disconnectReason);
  }
}

function sameName(a: string, b: string): boolean {
  return foldCase(a) === foldCase(b);
}

/** The message if it has type `T`; an `ERROR` becomes a thrown ClientError. */
function expectType<T extends ServerMessageType>(reply: ServerMessage | { msg: ServerMessage }, type: T): ServerMessageMap[T] {
  const m = 'type' in reply ? reply : reply.msg;
  if (m.type === 'ERROR') throw new ClientError(m.code, m.text);
  if (m.type !== type) throw new ClientError('BAD_REPLY', `expected ${type}, got ${m.type}`);
  return m as ServerMessageMap[T];
}
