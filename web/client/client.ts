/**
 * A parley client for browsers over WebSocket: the `ParleyClient` API where it
 * fits, no Node built-ins, no dependencies.
 */
import {
  formatChannel,
  formatConnect,
  formatMsg,
  formatTalk,
  parseServerLine,
  sameName,
  type ServerMessage,
  type ServerMessageMap,
  type ServerMessageType,
} from './protocol.js';
import { decodeVoiceFrame, encodeVoiceFrame, type BrowserVoiceFrame } from './voice-frame.js';

export interface BrowserClientOptions {
  /** Default ''. */
  realname?: string;
  /** The optional fourth `CONNECT` token, for the server's authentication hook. */
  token?: string;
  /** Default timeout of `connect`, `waitFor` and requests, in milliseconds. Default 5000. */
  timeoutMs?: number;
  /** Received messages kept for `waitFor`; the oldest are dropped past it. Default 10 000. */
  inboxLimit?: number;
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

type Listener = (msg: ServerMessage) => void;
type ListMessage = ServerMessageMap['USERLIST'] | ServerMessageMap['TALKLIST'];

interface Waiter {
  pick(m: ServerMessage): boolean;
  after: number;
  resolve(e: { seq: number; msg: ServerMessage }): void;
  reject(err: ClientError): void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * One WebSocket connection to a parley server. Received messages wait in an inbox
 * until `waitFor` or a request method consumes them; requests only take replies
 * that arrive after their command was sent.
 * @example
 * const c = await ParleyBrowserClient.connect('ws://127.0.0.1:7420/parley', 'alice');
 * c.subscribe((m) => console.log(m));
 * await c.join('#dev');
 * c.say('#dev', 'hello');
 */
export class ParleyBrowserClient {
  /** Resolves once the socket closed, with the reason of the last `DISCONNECT: reason` received. */
  readonly done: Promise<string | undefined>;
  readonly #ws: WebSocket;
  readonly #timeoutMs: number;
  readonly #inboxLimit: number;
  readonly #listeners = new Set<Listener>();
  readonly #voiceListeners = new Set<(frame: BrowserVoiceFrame) => void>();
  #undecodableVoice = 0;
  #nick = '';
  #closed = false;
  #reason: string | undefined;
  #resolveDone!: (reason: string | undefined) => void;
  #inbox: { seq: number; msg: ServerMessage }[] = [];
  #seq = 0;
  #waiters: Waiter[] = [];

  private constructor(ws: WebSocket, opts: BrowserClientOptions) {
    this.#ws = ws;
    this.#timeoutMs = opts.timeoutMs ?? 5000;
    this.#inboxLimit = opts.inboxLimit ?? 10_000;
    this.done = new Promise((resolve) => (this.#resolveDone = resolve));
    ws.binaryType = 'arraybuffer';
    ws.addEventListener('message', (ev: MessageEvent) => {
      if (typeof ev.data === 'string') this.#onText(ev.data);
      else if (ev.data instanceof ArrayBuffer) this.#onVoice(new Uint8Array(ev.data));
    });
    ws.addEventListener('close', () => this.#onClose());
  }

  /**
   * Opens a WebSocket to `url` and sends `CONNECT`.
   * @throws ClientError with the server's code when `CONNECT` is refused (the socket is then closed)
   */
  static async connect(url: string, nick: string, opts: BrowserClientOptions = {}): Promise<ParleyBrowserClient> {
    const ws = new WebSocket(url);
    const client = new ParleyBrowserClient(ws, opts);
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new ClientError('TIMEOUT', `opening ${url} took over ${client.#timeoutMs} ms`)), client.#timeoutMs);
        ws.addEventListener('open', () => (clearTimeout(timer), resolve()));
        ws.addEventListener('close', () => (clearTimeout(timer), reject(new ClientError('CLOSED', `${url} closed before it opened`))));
      });
      const reply = await client.#request(
        formatConnect(nick, opts.realname, undefined, opts.token),
        (m) => m.type === 'ACCEPT' || m.type === 'ERROR',
        'CONNECT',
      );
      expect(reply.msg, 'ACCEPT');
      client.#nick = nick;
      return client;
    } catch (err) {
      ws.close();
      throw err;
    }
  }

  /** The nickname the server accepted. */
  get nick(): string {
    return this.#nick;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Calls `listener` with every message as it arrives (lists split over several
   * lines come merged). Does not consume the inbox.
   * @returns a function that unsubscribes
   */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Calls `listener` with every voice frame the relay forwards (binary messages;
   * their key is empty, `nick` names the speaker).
   * @returns a function that unsubscribes
   */
  onVoice(listener: (frame: BrowserVoiceFrame) => void): () => void {
    this.#voiceListeners.add(listener);
    return () => this.#voiceListeners.delete(listener);
  }

  /** Binary messages received that were not one VoiceFrame. */
  get undecodableVoice(): number {
    return this.#undecodableVoice;
  }

  /**
   * Sends a voice frame of a talk this client is in (`key`: its own key from
   * `TALK ... JOINED`, `REQUEST` or the callee's `REQUEST`). A frame with an empty
   * payload binds this connection to the talk so that the relay forwards the
   * others' frames before this client speaks. Returns false when the connection
   * is closed or more than `maxBufferedBytes` wait to be sent (the frame is then
   * dropped: late voice is worth less than none).
   */
  sendVoice(frame: BrowserVoiceFrame, maxBufferedBytes = 64 * 1024): boolean {
    if (this.#closed || this.#ws.readyState !== WebSocket.OPEN || this.#ws.bufferedAmount > maxBufferedBytes) return false;
    this.#ws.send(encodeVoiceFrame(frame));
    return true;
  }

  /** Sends one raw line (a `\n` is added). */
  sendLine(line: string): void {
    if (this.#closed || this.#ws.readyState !== WebSocket.OPEN) throw new ClientError('CLOSED', 'the connection is closed');
    this.#ws.send(`${line}\n`);
  }

  /** Joins a channel; resolves with its members (the client included). */
  async join(channel: string): Promise<string[]> {
    const joined = await this.#request(
      formatChannel('JOIN', channel),
      (m) => (m.type === 'JOINED' && sameName(m.channel, channel)) || m.type === 'ERROR',
      'JOIN',
    );
    expect(joined.msg, 'JOINED');
    const list = await this.#expect((m) => m.type === 'USERLIST' && sameName(m.channel, channel), joined.seq, 'USERLIST');
    return expect(list.msg, 'USERLIST').nicks;
  }

  /** Leaves a channel; resolves on `LEFT`. */
  async leave(channel: string): Promise<void> {
    const reply = await this.#request(
      formatChannel('LEAVE', channel),
      (m) => (m.type === 'LEFT' && sameName(m.channel, channel)) || m.type === 'ERROR',
      'LEAVE',
    );
    expect(reply.msg, 'LEFT');
  }

  /** Sends `MSG <target>: <text>` to a channel or a nick. */
  say(target: string, text: string): void {
    this.sendLine(formatMsg(target, text));
  }

  /** Asks `nick` for a call; resolves with this client's key for the talk. */
  async talkRequest(nick: string): Promise<string> {
    const reply = await this.#request(
      formatTalk(nick, 'REQUEST'),
      (m) => (m.type === 'TALK' && m.event === 'REQUEST' && sameName(m.peer, nick)) || m.type === 'ERROR',
      'TALK',
    );
    return expect(reply.msg, 'TALK').key;
  }

  talkAccept(nick: string, key: string): void {
    this.sendLine(formatTalk(nick, 'ACCEPT', key));
  }

  talkDeny(nick: string, key: string): void {
    this.sendLine(formatTalk(nick, 'DENY', key));
  }

  /** Hangs up a call (the peer's nick) or leaves a channel's group voice. */
  talkEnd(peerOrChannel: string, key: string): void {
    this.sendLine(formatTalk(peerOrChannel, 'END', key));
  }

  /** Enters a channel's group voice; resolves with this client's key and everyone in it. */
  async talkJoin(channel: string): Promise<{ key: string; nicks: string[] }> {
    const joined = await this.#request(
      formatTalk(channel, 'JOIN'),
      (m) => (m.type === 'TALK' && m.event === 'JOINED' && sameName(m.peer, channel)) || m.type === 'ERROR',
      'TALK',
    );
    const list = await this.#expect((m) => m.type === 'TALKLIST' && sameName(m.channel, channel), joined.seq, 'TALKLIST');
    return { key: expect(joined.msg, 'TALK').key, nicks: expect(list.msg, 'TALKLIST').nicks };
  }

  /**
   * Resolves with the earliest matching message not yet consumed (the inbox first, then waiting).
   * @throws ClientError('TIMEOUT') or ClientError('CLOSED')
   */
  async waitFor<T extends ServerMessageType>(type: T, match?: (m: ServerMessageMap[T]) => boolean, timeoutMs?: number): Promise<ServerMessageMap[T]> {
    const got = await this.#expect((m) => m.type === type && (match === undefined || match(m as ServerMessageMap[T])), 0, type, timeoutMs);
    return got.msg as ServerMessageMap[T];
  }

  /** Messages received and not yet consumed, oldest first (a copy). */
  inbox(): ServerMessage[] {
    return this.#inbox.map((e) => e.msg);
  }

  /** Sends `DISCONNECT` and waits for the server to close. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#ws.readyState === WebSocket.OPEN) this.#ws.send('DISCONNECT\n');
    const timer = setTimeout(() => this.#ws.close(), this.#timeoutMs);
    await this.done;
    clearTimeout(timer);
  }

  #onText(text: string): void {
    // The server writes a list in one go, so its continuation lines share a message.
    let list: ListMessage | undefined;
    for (const line of text.split('\n')) {
      const msg = parseServerLine(line.endsWith('\r') ? line.slice(0, -1) : line);
      if (msg === undefined) continue;
      if (msg.type === 'PING' && this.#ws.readyState === WebSocket.OPEN) this.#ws.send(`PONG: ${msg.value}\n`);
      if (msg.type === 'DISCONNECT') this.#reason = msg.reason;
      if ((msg.type === 'USERLIST' || msg.type === 'TALKLIST') && list && list.type === msg.type && list.channel === msg.channel) {
        list.nicks.push(...msg.nicks);
        continue;
      }
      if (list) this.#deliver(list);
      list = undefined;
      if (msg.type === 'USERLIST' || msg.type === 'TALKLIST') list = { ...msg, nicks: [...msg.nicks] };
      else this.#deliver(msg);
    }
    if (list) this.#deliver(list);
  }

  #onVoice(buf: Uint8Array): void {
    const frame = decodeVoiceFrame(buf);
    if (frame === undefined) {
      this.#undecodableVoice++;
      return;
    }
    for (const l of this.#voiceListeners) {
      try {
        l(frame);
      } catch (err) {
        setTimeout(() => {
          throw err;
        });
      }
    }
  }

  #deliver(msg: ServerMessage): void {
    for (const l of this.#listeners) {
      try {
        l(msg);
      } catch (err) {
        // A listener's bug must not break delivery to the others or the inbox.
        setTimeout(() => {
          throw err;
        });
      }
    }
    const seq = ++this.#seq;
    for (let i = 0; i < this.#waiters.length; i++) {
      const w = this.#waiters[i]!;
      if (seq > w.after && w.pick(msg)) {
        this.#waiters.splice(i, 1);
        clearTimeout(w.timer);
        w.resolve({ seq, msg });
        return;
      }
    }
    this.#inbox.push({ seq, msg });
    if (this.#inbox.length > this.#inboxLimit) this.#inbox.shift();
  }

  #request(line: string, pick: (m: ServerMessage) => boolean, what: string): Promise<{ seq: number; msg: ServerMessage }> {
    const after = this.#seq;
    this.sendLine(line);
    return this.#expect(pick, after, what);
  }

  #expect(pick: (m: ServerMessage) => boolean, after: number, what: string, timeoutMs = this.#timeoutMs): Promise<{ seq: number; msg: ServerMessage }> {
    const i = this.#inbox.findIndex((e) => e.seq > after && pick(e.msg));
    if (i !== -1) return Promise.resolve(this.#inbox.splice(i, 1)[0]!);
    if (this.#closed) return Promise.reject(new ClientError('CLOSED', `connection closed while waiting for ${what}`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        pick,
        after,
        resolve,
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
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) {
      clearTimeout(w.timer);
      w.reject(new ClientError('CLOSED', this.#reason ?? 'connection closed'));
    }
    this.#resolveDone(this.#reason);
  }
}

/** The message if it has the expected type; an `ERROR` becomes a ClientError. */
function expect<T extends ServerMessageType>(msg: ServerMessage, type: T): ServerMessageMap[T] {
  if (msg.type === type) return msg as ServerMessageMap[T];
  if (msg.type === 'ERROR') throw new ClientError(msg.code, msg.text);
  throw new ClientError('UNEXPECTED', `expected ${type}, got ${msg.type}`);
}
