/**
 * The UDP voice relay (PROTOCOL.md section 5). A frame from a bound address
 * costs one Map lookup, a token from its participant's bucket, one byte
 * comparison of its key and nick with the binding's, and a structural check of
 * the rest; it is forwarded with its key emptied, the same Buffer to every
 * receiver. Only a frame from an unbound address has its key and nick read as text.
 */
import * as dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import { foldCase, type Logger, type Session } from '../../core/index.js';
import { payloadLength, scanVoiceFrame } from './voice-frame.js';
import { RelayCounters } from './stats.js';
import { normaliseIp, type Endpoint, type Party, type Talk, type TalkRegistry } from './talk-registry.js';

/** Per-participant bounds (PROTOCOL.md section 5); see `VoipOptions`. */
export interface RelayLimits {
  maxFrameBytes: number;
  /** 0: no rate bound. */
  frameRate: number;
  frameBurst: number;
  /** Bytes waiting on a WebSocket party's connection above which frames to it are dropped. */
  wsVoiceHighWaterBytes: number;
}

export interface RelayBindOptions {
  host: string;
  port: number;
  recvBufferBytes: number;
  sendBufferBytes: number;
}

export class UdpRelay {
  readonly counters = new RelayCounters();
  /** Bound endpoints by `address:port`. */
  readonly #endpoints = new Map<string, Endpoint>();
  #socket: dgram.Socket | undefined;
  #address: { host: string; port: number } | undefined;

  constructor(
    private readonly talks: TalkRegistry,
    private readonly log: Logger,
    private readonly limits: RelayLimits,
  ) {}

  /** Binds the socket; resolves with the bound address. */
  async open(opts: RelayBindOptions): Promise<{ host: string; port: number }> {
    const socket = dgram.createSocket({
      type: isIPv6(opts.host) ? 'udp6' : 'udp4',
      recvBufferSize: opts.recvBufferBytes,
      sendBufferSize: opts.sendBufferBytes,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(opts.port, opts.host, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      socket.close();
      throw err;
    }
    // Send errors (no callback given) arrive here; one bad peer must not stop the relay.
    socket.on('error', (err) => this.log.debug('udp socket error', err));
    socket.on('message', (buf, rinfo) => {
      try {
        this.#onMessage(buf, rinfo);
      } catch (err) {
        this.counters.drop('undecodable');
        this.log.debug(`frame from ${rinfo.address}:${rinfo.port} failed`, err);
      }
    });
    // The kernel caps (and Linux doubles) what was asked; say so when voice may drop under load.
    const recv = socket.getRecvBufferSize();
    const send = socket.getSendBufferSize();
    if (recv < opts.recvBufferBytes || send < opts.sendBufferBytes) {
      this.log.warn(
        `udp buffers are receive ${recv} / send ${send} bytes, smaller than the ${opts.recvBufferBytes} / ${opts.sendBufferBytes} asked (raise net.core.rmem_max / wmem_max)`,
      );
    }
    this.#socket = socket;
    const a = socket.address();
    this.#address = { host: a.address, port: a.port };
    return { ...this.#address };
  }

  /** The bound address, or undefined when not open. */
  address(): { host: string; port: number } | undefined {
    return this.#address ? { ...this.#address } : undefined;
  }

  get boundCount(): number {
    return this.#endpoints.size;
  }

  /** Releases the party's binding, if any. */
  release(party: Party): void {
    const ep = party.endpoint;
    if (!ep) return;
    party.endpoint = undefined;
    if (this.#endpoints.get(ep.id) === ep) this.#endpoints.delete(ep.id);
    const list = ep.talk.endpoints;
    const i = list.indexOf(ep);
    if (i !== -1) list.splice(i, 1);
  }

  /**
   * A frame (key emptied) that came from another node for this talk: to every
   * local party's bound address. Bounds were applied on the node it entered.
   */
  fanOut(talk: Talk, frame: Buffer): number {
    const socket = this.#socket;
    if (socket === undefined) return 0;
    const c = this.counters;
    talk.lastPayloadAt = performance.now();
    const list = talk.endpoints;
    for (let i = 0; i < list.length; i++) {
      const to = list[i]!;
      socket.send(frame, to.port, to.address);
      c.framesRelayed++;
      c.bytesRelayed += frame.length;
    }
    return list.length;
  }

  async close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#address = undefined;
    this.#endpoints.clear();
    if (socket) await new Promise<void>((r) => socket.close(() => r()));
  }

  #onMessage(buf: Buffer, rinfo: dgram.RemoteInfo): void {
    const c = this.counters;
    c.framesIn++;
    c.bytesIn += buf.length;
    const id = `${rinfo.address}:${rinfo.port}`;
    const ep = this.#endpoints.get(id);
    if (ep === undefined) {
      this.#bind(buf, rinfo, id);
      return;
    }
    // Every datagram from a bound address costs its participant a token, whatever it holds.
    const now = performance.now();
    if (!this.#take(ep.party, now)) return c.drop('rateLimited');
    if (buf.length > this.limits.maxFrameBytes) return c.drop('tooLarge');
    const prefix = ep.prefix;
    const n = prefix.length;
    if (buf.length < n || buf.compare(prefix, 0, n, 0, n) !== 0) {
      // Rare path: tell another (key, nick) from garbage.
      c.drop(scanVoiceFrame(buf) === undefined ? 'undecodable' : 'spoofed');
      return;
    }
    const len = payloadLength(buf, n);
    if (len < 0) return c.drop('undecodable');
    this.#forward(ep, buf, len, now);
  }

  /**
   * A frame in a WebSocket binary message (Mumble's TCP tunnel): the session is
   * authenticated, so it is bound to the party directly, without an address;
   * the frame must still name that session's own key and nick. The same size
   * and rate bounds as over UDP; forwarded to UDP and WebSocket parties alike.
   */
  fromSession(session: Session, buf: Buffer): void {
    const c = this.counters;
    c.framesIn++;
    c.framesInWs++;
    c.bytesIn += buf.length;
    if (buf.length > this.limits.maxFrameBytes) return c.drop('tooLarge');
    const layout = scanVoiceFrame(buf);
    if (layout === undefined) return c.drop('undecodable');
    const party = this.talks.byKey(buf.toString('utf8', layout.keyStart, layout.keyEnd));
    if (party === undefined) return c.drop('unknownKey');
    if (party.session !== session || foldCase(buf.toString('utf8', layout.nickStart, layout.nickEnd)) !== foldCase(session.nick)) return c.drop('notParty');
    let ep = party.endpoint;
    if (ep !== undefined && ep.session === undefined) return c.drop('addressTaken'); // this party talks over UDP
    const now = performance.now();
    if (!this.#take(party, now)) return c.drop('rateLimited');
    if (ep === undefined) {
      ep = { id: `ws:${session.id}`, address: '', port: 0, prefix: EMPTY, keyBytes: layout.keyEnd, talk: party.talk, party, session };
      party.endpoint = ep;
      party.talk.endpoints.push(ep);
    }
    // The key's length may differ from the one bound (another talk's key never gets here), so use this frame's.
    this.#forward(ep, buf, layout.payloadLength, now, layout.keyEnd);
  }

  /**
   * First frame from an address: bind the address if the frame is well formed,
   * names a participant's own key and nick, comes from that participant's IP,
   * and the participant has a token left. A dropped frame binds nothing.
   */
  #bind(buf: Buffer, rinfo: dgram.RemoteInfo, id: string): void {
    const c = this.counters;
    if (buf.length > this.limits.maxFrameBytes) return c.drop('tooLarge');
    const layout = scanVoiceFrame(buf);
    if (layout === undefined) return c.drop('undecodable');
    const party = this.talks.byKey(buf.toString('utf8', layout.keyStart, layout.keyEnd));
    if (party === undefined) return c.drop('unknownKey');
    if (foldCase(buf.toString('utf8', layout.nickStart, layout.nickEnd)) !== foldCase(party.session.nick)) return c.drop('notParty');
    if (normaliseIp(rinfo.address) !== party.ip) return c.drop('wrongIp');
    if (party.endpoint !== undefined) return c.drop('addressTaken');
    const now = performance.now();
    if (!this.#take(party, now)) return c.drop('rateLimited');
    // The bytes as received: later frames must repeat them exactly.
    const prefix = Buffer.from(buf.subarray(0, layout.nickEnd));
    const ep: Endpoint = { id, address: rinfo.address, port: rinfo.port, prefix, keyBytes: layout.keyEnd, talk: party.talk, party };
    party.endpoint = ep;
    party.talk.endpoints.push(ep);
    this.#endpoints.set(id, ep);
    this.#forward(ep, buf, layout.payloadLength, now);
  }

  /** Takes one token from the participant's bucket, refilled at `frameRate` up to `frameBurst`; false when empty. */
  #take(party: Party, now: number): boolean {
    const { frameRate, frameBurst } = this.limits;
    if (frameRate === 0) return true;
    const tokens = Math.min(frameBurst, party.tokens + ((now - party.refilledAt) * frameRate) / 1000);
    party.refilledAt = now;
    if (tokens < 1) {
      party.tokens = tokens;
      return false;
    }
    party.tokens = tokens - 1;
    return true;
  }

  #forward(ep: Endpoint, buf: Buffer, payloadBytes: number, now: number, keyBytes = ep.keyBytes): void {
    const c = this.counters;
    if (payloadBytes === 0) {
      c.framesBinding++; // bind / keepalive only
      return;
    }
    const talk = ep.talk;
    if (!talk.accepted) return c.drop('beforeAccept');
    talk.lastPayloadAt = now;
    const list = talk.endpoints;
    if (list.length < 2 && talk.remote === undefined) {
      c.framesNoPeer++;
      return;
    }
    // The key emptied, every other byte as received (PROTOCOL.md section 5): the
    // key's last byte becomes a zero-length varint and the datagram starts there.
    // The received Buffer is this handler's own, so no copy is needed; one Buffer
    // goes to every receiver.
    const start = keyBytes - 1;
    buf[start] = 0;
    const out = buf.subarray(start);
    const socket = this.#socket;
    const before = c.framesRelayed;
    for (let i = 0; i < list.length; i++) {
      const to = list[i]!;
      if (to === ep) continue;
      if (to.session !== undefined) {
        if (!to.session.sendBinary(out, this.limits.wsVoiceHighWaterBytes)) {
          c.framesDroppedSlowWs++;
          continue;
        }
      } else if (socket !== undefined) socket.send(out, to.port, to.address);
      else continue;
      c.framesRelayed++;
      c.bytesRelayed += out.length;
    }
    // Parties on other nodes: once per node, over the node link (cluster-talks.ts).
    const far = talk.remote === undefined ? 0 : talk.remote.send(out);
    if (c.framesRelayed === before && far === 0) c.framesNoPeer++;
    else c.framesForwarded++;
  }
}

const EMPTY = Buffer.alloc(0);
