/**
 * The lean simulated client of a load run: one raw `net.Socket`, the core
 * `LineSplitter`, and no RxJS or per-line strings on the hot paths. `MSG` lines
 * are parsed from the bytes; `USERJOIN`/`USERLEAVE`/`USERLIST`/`TALKJOIN`/
 * `TALKLEAVE`/`TALKLIST` are skipped after their first bytes (they arrive
 * O(clients²) times while a channel fills); only the rare control lines
 * become strings. `LoadVoice` (load-voice.ts) is its UDP voice side.
 */
import * as net from 'node:net';
import type { Duplex } from 'node:stream';
import { createWebSocketStream, WebSocket } from 'ws';
import { LineSplitter, LINE_TOO_LONG, parseServerLine, PROTOCOL_VERSION, type ServerMessage } from '../../core/index.js';
import { bump } from './metrics.js';
import type { LoadVoice } from './load-voice.js';
import { nowUs, TWO32, type LoadContext, type NodeEndpoint } from './load-context.js';

const M = 0x4d;
const S = 0x53;
const G = 0x47;
const U = 0x55;
const T = 0x54;
const A = 0x41;
const L = 0x4c;
const K = 0x4b;
const SP = 0x20;
const COLON = 0x3a;
type Waiter = { pred: (m: ServerMessage) => boolean; resolve: (m: ServerMessage) => void; reject: (e: Error) => void; timer: NodeJS.Timeout };

export class LoadClient {
  readonly nick: string;
  /** 'connecting' until TCP connects, 'handshake' until ACCEPT. */
  state: 'connecting' | 'handshake' | 'accepted' | 'closed' = 'connecting';
  /** Next expected sequence number per sender slot of this client's text group. */
  seqs: Int32Array | undefined;
  /** When set, USERJOIN (join = true) and USERLEAVE lines go here (the churn observer). */
  onMember: ((line: Buffer, join: boolean) => void) | undefined;
  /** Parsed control lines that no `waitFor` took. */
  onControl: ((m: ServerMessage) => void) | undefined;
  onAccept: (() => void) | undefined;
  onClosed: ((reason: string) => void) | undefined;
  /** This client observes some sender's window: wake the open-loop pump on deliveries. */
  wakeOnMsg = false;
  voice: LoadVoice | undefined;
  /** Why the connection ended (DISCONNECT text, errno or 'connection closed'). */
  closeReason: string | undefined;

  readonly #ctx: LoadContext;
  /** The node this client connected to (its voice goes to that node's relay). */
  readonly node: NodeEndpoint;
  /** A TCP socket, or a WebSocket as a stream (text messages in, text messages out). */
  readonly #socket: Duplex;
  readonly #splitter = new LineSplitter(1024 * 1024);
  readonly #startUs = nowUs();
  #missing: Set<number> | undefined;
  #waiter: Waiter | undefined;
  /** Recent control lines nobody waited for, so that `waitFor` sees one that came early. */
  #inbox: ServerMessage[] = [];
  #disconnectText: string | undefined;
  #errno: string | undefined;
  #leaving = false;

  /** Connects at once and sends `CONNECT`. */
  constructor(ctx: LoadContext, nick: string) {
    this.#ctx = ctx;
    this.nick = nick;
    this.node = ctx.nextNode();
    const { host: h, port } = this.node;
    let s: Duplex;
    if (ctx.transport === 'ws') {
      const host = h.includes(':') ? `[${h}]` : h;
      const ws = new WebSocket(`ws://${host}:${port}/parley`, { perMessageDeflate: false });
      // Strings stay strings, so that each write is one text message (a Buffer would go as binary).
      s = createWebSocketStream(ws, { decodeStrings: false });
      ws.on('open', () => s.emit('connect'));
    } else s = net.connect({ host: h, port, noDelay: true });
    this.#socket = s;
    s.on('connect', () => {
      this.state = 'handshake';
      s.write(`CONNECT: "${nick}" "parley load" ${PROTOCOL_VERSION}\n`);
    });
    s.on('data', (chunk: Buffer) => this.#onData(chunk));
    s.on('error', (err: NodeJS.ErrnoException) => {
      this.#errno ??= err.code ?? 'ESOCKET';
    });
    s.on('close', () => this.#onClose());
  }

  get socket(): Duplex {
    return this.#socket;
  }

  /** Writes raw protocol text; false when the socket is backed up (wait for 'drain'). */
  write(text: string): boolean {
    if (this.state === 'closed') return true;
    return this.#socket.write(text);
  }

  /**
   * The next control line matching `pred` (checked before `onControl`).
   * Rejects on an `ERROR` line, on close, or after `timeoutMs`.
   */
  waitFor(pred: (m: ServerMessage) => boolean, timeoutMs: number): Promise<ServerMessage> {
    const early = this.#inbox.findIndex(pred);
    if (early !== -1) return Promise.resolve(this.#inbox.splice(early, 1)[0]!);
    if (this.state === 'closed') return Promise.reject(new Error(`closed: ${this.closeReason}`));
    this.#waiter?.reject(new Error('superseded'));
    return new Promise((resolve, reject) => {
      const w: Waiter = {
        pred,
        resolve,
        reject,
        timer: setTimeout(() => {
          if (this.#waiter === w) this.#waiter = undefined;
          reject(new Error('timeout'));
        }, timeoutMs),
      };
      this.#waiter = w;
    });
  }

  /** Sends `DISCONNECT`, waits for the server to close (at most `graceMs`), then destroys. */
  close(graceMs = 2000): Promise<void> {
    this.#leaving = true;
    const s = this.#socket;
    if (this.state === 'closed' || s.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(() => s.destroy(), graceMs);
      s.once('close', () => {
        clearTimeout(t);
        resolve();
      });
      if (this.state === 'accepted') s.end('DISCONNECT\n');
      else s.destroy();
    });
  }

  /** Closes at once, counting nothing. */
  destroy(): void {
    this.#leaving = true;
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    const sp = this.#splitter;
    sp.push(chunk);
    const now = nowUs();
    for (let line = sp.shift(); line !== undefined; line = sp.shift()) {
      if (line === LINE_TOO_LONG) continue;
      const b0 = line[0];
      if (b0 === M && line[1] === S && line[2] === G && line[3] === SP) {
        this.#onMsg(line, now);
      } else if (b0 === U && line[1] === S) {
        // USERJOIN / USERLEAVE / USERLIST
        if (this.onMember !== undefined && line[4] === 0x4a) this.onMember(line, true);
        else if (this.onMember !== undefined && line[4] === L && line[5] === 0x45) this.onMember(line, false);
      } else if (b0 === T && line[1] === A && line[2] === L && line[3] === K && line[4] !== SP) {
        // TALKJOIN / TALKLEAVE / TALKLIST: not needed by any scenario.
      } else {
        this.#onControlLine(line.toString('utf8'), now);
      }
    }
  }

  /** `MSG <sender> <recipient>: <slot> <seq> <tsUs> <padding>` */
  #onMsg(line: Buffer, now: number): void {
    const ctx = this.#ctx;
    const m = ctx.m;
    m.receivedAll++;
    const end = line.length;
    let i = line.indexOf(COLON, 4);
    const seqs = this.seqs;
    if (i < 0 || seqs === undefined) {
      m.stray++;
      return;
    }
    i++;
    if (line[i] === SP) i++;
    let slot = 0;
    let seq = 0;
    let ts = 0;
    let d: number;
    const s0 = i;
    while (i < end && (d = line[i]! - 0x30) >= 0 && d <= 9) (slot = slot * 10 + d), i++;
    if (i === s0 || line[i++] !== SP) return void m.stray++;
    const q0 = i;
    while (i < end && (d = line[i]! - 0x30) >= 0 && d <= 9) (seq = seq * 10 + d), i++;
    if (i === q0 || line[i++] !== SP) return void m.stray++;
    const t0 = i;
    while (i < end && (d = line[i]! - 0x30) >= 0 && d <= 9) (ts = ts * 10 + d), i++;
    if (i === t0 || slot >= seqs.length) return void m.stray++;

    const measured = ts >= ctx.measureStartUs && ts < ctx.measureEndUs;
    const next = seqs[slot]!;
    if (seq === next) {
      seqs[slot] = seq + 1;
    } else if (seq > next) {
      // A gap: remember what is missing, so that a late arrival counts as out of
      // order rather than as a duplicate. Huge gaps (a lost connection) are not tracked.
      if (seq - next <= 100_000) {
        const miss = (this.#missing ??= new Set());
        for (let k = next; k < seq; k++) miss.add(slot * TWO32 + k);
      }
      seqs[slot] = seq + 1;
    } else if (this.#missing?.delete(slot * TWO32 + seq)) {
      if (measured) m.outOfOrder++;
    } else {
      if (measured) m.duplicates++;
      return;
    }
    if (measured) {
      m.received++;
      m.latency.recordUs(now - ts);
    }
    if (this.wakeOnMsg) ctx.wake();
  }

  #onControlLine(text: string, now: number): void {
    const msg = parseServerLine(text);
    if (msg === undefined) return;
    switch (msg.type) {
      case 'PING':
        this.#socket.write(`PONG: ${msg.value}\n`);
        return;
      case 'ACCEPT':
        if (this.state !== 'handshake') break;
        this.state = 'accepted';
        this.#ctx.m.connect.recordUs(now - this.#startUs);
        this.onAccept?.();
        break;
      case 'JOINED':
        // The server's default channel (e.g. #lobby): leave it, so that its USERJOIN
        // storm, which no scenario measures, does not load the run.
        if (!msg.channel.includes(this.#ctx.tag)) this.#socket.write(`LEAVE: ${msg.channel}\n`);
        break;
      case 'ERROR':
        bump(this.#ctx.m.errors, msg.code);
        break;
      case 'DISCONNECT':
        this.#disconnectText = msg.reason || 'DISCONNECT';
        break;
    }
    const w = this.#waiter;
    if (w !== undefined) {
      if (msg.type === 'ERROR') {
        this.#waiter = undefined;
        clearTimeout(w.timer);
        w.reject(new Error(`ERROR ${msg.code}: ${msg.text}`));
        return;
      }
      if (w.pred(msg)) {
        this.#waiter = undefined;
        clearTimeout(w.timer);
        w.resolve(msg);
        return;
      }
    }
    if (this.onControl !== undefined) this.onControl(msg);
    else if (this.#inbox.push(msg) > 16) this.#inbox.shift();
  }

  #onClose(): void {
    const was = this.state;
    this.state = 'closed';
    const m = this.#ctx.m;
    const reason = this.#disconnectText ?? this.#errno ?? 'connection closed';
    this.closeReason = reason;
    if (!this.#leaving) {
      // Refused: closed before ACCEPT. An errno (ECONNREFUSED, EMFILE) is its own code.
      if (this.#errno !== undefined && this.#disconnectText === undefined) {
        bump(m.errors, this.#errno);
      } else {
        bump(m.errors, was === 'accepted' ? 'DISCONNECTED' : 'REFUSED');
        bump(m.disconnects, reason);
      }
    }
    const w = this.#waiter;
    if (w !== undefined) {
      this.#waiter = undefined;
      clearTimeout(w.timer);
      w.reject(new Error(`closed: ${reason}`));
    }
    this.voice?.close();
    this.onClosed?.(reason);
  }
}
