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
import { bindUdp } from './udp-socket.js';
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
  /** Bound UDP parties over their rate that may get a connected socket of their own on the relay's port; 0: none. */
  peerSockets: number;
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
  #type: dgram.SocketType = 'udp4';
  /** Per-party sockets open or opening (see #isolate), and those connected. */
  #peerSockets = 0;
  #peersConnected = 0;
  #onDatagram = (buf: Buffer, rinfo: dgram.RemoteInfo): void => {
    try {
      this.#onMessage(buf, rinfo);
    } catch (err) {
      this.counters.drop('undecodable');
      this.log.debug(`frame from ${rinfo.address}:${rinfo.port} failed`, err);
    }
  };

  constructor(
    private readonly talks: TalkRegistry,
    private readonly log: Logger,
    private readonly limits: RelayLimits,
  ) {}

  /** Binds the socket; resolves with the bound address. */
  async open(opts: RelayBindOptions): Promise<{ host: string; port: number }> {
    this.#type = isIPv6(opts.host) ? 'udp6' : 'udp4';
    const shared = this.limits.peerSockets > 0;
    let port = opts.port;
    if (shared) {
      // Per-party sockets need SO_REUSEADDR on the relay's socket too, and with it a
      // port another process holds would bind without EADDRINUSE: bind once without
      // it first, so a taken port still fails (and port 0 picks a free one).
      const probe = await bindUdp({ host: opts.host, port });
      port = probe.address().port;
      await new Promise<void>((r) => probe.close(() => r()));
    }
    const socket = await bindUdp({
      host: opts.host,
      port,
      reuseAddr: shared,
      recvBufferSize: opts.recvBufferBytes,
      sendBufferSize: opts.sendBufferBytes,
    });
    // Send errors (no callback given) arrive here; one bad peer must not stop the relay.
    socket.on('error', (err) => this.log.debug('udp socket error', err));
    socket.on('message', this.#onDatagram);
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
    this.#closePeerSocket(ep);
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
      if (to.session !== undefined) {
        if (!to.session.sendBinary(frame, this.limits.wsVoiceHighWaterBytes)) {
          c.framesDroppedSlowWs++;
          continue;
        }
      } else if (to.connected) to.socket!.send(frame);
      else socket.send(frame, to.port, to.address);
      c.framesRelayed++;
      c.bytesRelayed += frame.length;
    }
    return list.length;
  }

  async close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#address = undefined;
    for (const ep of this.#endpoints.values()) this.#closePeerSocket(ep);
    this.#endpoints.clear();
    if (socket) await new Promise<void>((r) => socket.close(() => r()));
  }

  /** Per-party sockets connected to their party's address. */
  get peerSocketCount(): number {
    return this.#peersConnected;
  }

  /**
   * Gives a bound UDP party that went over its rate a socket of its own: bound
   * to the relay's address (SO_REUSEADDR) and connected to the party's, so Linux
   * queues that party's datagrams there and no longer in the shared socket. A
   * party flooding faster than a socket can be read then fills only its own
   * receive queue, and libuv reads at most 32 datagrams per socket per loop
   * turn, so everyone else's frames are still read in time. Parties within
   * their rate stay on the shared socket, read in batches. Datagrams that reach
   * the new socket before it is connected are handled as any others.
   */
  #isolate(ep: Endpoint): void {
    const a = this.#address;
    if (a === undefined || this.#peerSockets >= this.limits.peerSockets) return;
    this.#peerSockets++;
    const s = dgram.createSocket({ type: this.#type, reuseAddr: true });
    ep.socket = s;
    s.on('message', this.#onDatagram);
    s.on('error', (err) => this.log.debug(`udp socket of ${ep.id} error`, err));
    s.bind(a.port, a.host, () => {
      if (ep.socket !== s) return;
      s.connect(ep.port, ep.address, (err?: Error) => {
        if (ep.socket !== s) return;
        if (err) {
          this.log.debug(`udp socket of ${ep.id} did not connect`, err);
          this.#closePeerSocket(ep);
          return;
        }
        ep.connected = true;
        this.#peersConnected++;
      });
    });
  }

  #closePeerSocket(ep: Endpoint): void {
    const s = ep.socket;
    if (s === undefined) return;
    ep.socket = undefined;
    if (ep.connected) this.#peersConnected--;
    ep.connected = false;
    this.#peerSockets--;
    try {
      s.close();
    } catch {
      // already closed (a failed bind closes it)
    }
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
    if (!this.#take(ep.party, now)) {
      if (ep.socket === undefined) this.#isolate(ep);
      return c.drop('rateLimited');
    }
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
      } else if (to.connected) to.socket!.send(out);
      else if (socket !== undefined) socket.send(out, to.port, to.address);
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
