/**
 * The UDP voice relay (PROTOCOL.md section 5). A frame from a bound address
 * costs one Map lookup, one byte comparison of its key and nick with the
 * binding's, and a varint read for the payload length; it is forwarded as the
 * received Buffer. Only a frame from an unbound address is decoded.
 */
import * as dgram from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Logger } from '../../core/index.js';
import { decodeVoiceFrame, framePrefix, payloadLength } from './voice-frame.js';
import { RelayCounters } from './stats.js';
import { normaliseIp, type Endpoint, type Party, type TalkRegistry } from './talk-registry.js';

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
    const prefix = ep.prefix;
    const n = prefix.length;
    if (buf.length < n || buf.compare(prefix, 0, n, 0, n) !== 0) {
      // Rare path: tell another (key, nick) from garbage.
      c.drop(decodeVoiceFrame(buf) === undefined ? 'undecodable' : 'spoofed');
      return;
    }
    const len = payloadLength(buf, n);
    if (len < 0) {
      c.drop('undecodable');
      return;
    }
    this.#forward(ep, buf, len);
  }

  /** First frame from an address: decode it and bind the address if it may speak for (key, nick). */
  #bind(buf: Buffer, rinfo: dgram.RemoteInfo, id: string): void {
    const c = this.counters;
    const frame = decodeVoiceFrame(buf);
    if (frame === undefined) return c.drop('undecodable');
    const talk = this.talks.byKey(frame.key);
    if (talk === undefined) return c.drop('unknownKey');
    const party = this.talks.partyByNick(talk, frame.nick);
    if (party === undefined) return c.drop('notParty');
    if (normaliseIp(rinfo.address) !== party.ip) return c.drop('wrongIp');
    if (party.endpoint !== undefined) return c.drop('addressTaken');
    const prefix = framePrefix(frame.key, frame.nick);
    // A non-canonical Avro encoding would never match the fast-path comparison.
    if (buf.length < prefix.length || buf.compare(prefix, 0, prefix.length, 0, prefix.length) !== 0) return c.drop('undecodable');
    const ep: Endpoint = { id, address: rinfo.address, port: rinfo.port, prefix, talk, party };
    party.endpoint = ep;
    talk.endpoints.push(ep);
    this.#endpoints.set(id, ep);
    this.#forward(ep, buf, frame.payload.length);
  }

  #forward(ep: Endpoint, buf: Buffer, payloadBytes: number): void {
    const c = this.counters;
    if (payloadBytes === 0) {
      c.framesBinding++; // bind / keepalive only
      return;
    }
    const talk = ep.talk;
    if (!talk.accepted) return c.drop('beforeAccept');
    talk.lastPayloadAt = performance.now();
    const socket = this.#socket!;
    const list = talk.endpoints;
    const before = c.framesRelayed;
    for (let i = 0; i < list.length; i++) {
      const to = list[i]!;
      if (to === ep) continue;
      socket.send(buf, to.port, to.address);
      c.framesRelayed++;
      c.bytesRelayed += buf.length;
    }
    if (c.framesRelayed === before) c.framesNoPeer++;
    else c.framesForwarded++;
  }
}
