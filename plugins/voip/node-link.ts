/**
 * Voice between the nodes of a cluster (Jitsi's Octo design): each node relays
 * its own clients' frames; a frame for parties on another node crosses to that
 * node once, over UDP, on this socket, and that node fans it out locally. Never
 * through Redis. A datagram is accepted only from the advertised link address
 * of a live node (docs/cluster.md, "Voice across nodes"):
 *
 *   0   'P' 'V' (0x50 0x56)   magic
 *   2   1                     version
 *   3   kind                  1: a 1:1 call (id = the call's id), 2: group voice (id = the folded channel)
 *   4   n                     id length in bytes (1-255)
 *   5   id                    UTF-8
 *   5+n the relayed frame     a VoiceFrame with its key emptied (first byte 0), as the clients get it
 */
import type * as dgram from 'node:dgram';
import { bindUdp } from './udp-socket.js';
import type { Logger } from '../../core/index.js';
import { payloadLength } from './voice-frame.js';
import { normaliseIp } from './talk-registry.js';

export const LINK_MAGIC_0 = 0x50;
export const LINK_MAGIC_1 = 0x56;
export const LINK_VERSION = 1;
export const LINK_CALL = 1;
export const LINK_GROUP = 2;
/** What a node advertises its link address under (`host:port`). */
export const LINK_INFO_KEY = 'voip.link';

export type LinkKind = typeof LINK_CALL | typeof LINK_GROUP;

/** Why a node-to-node datagram was dropped. */
export interface LinkDrops {
  /** From an address that is no live node's advertised link address. */
  notNode: number;
  /** Not a well-formed link datagram, or the frame in it is not a key-emptied VoiceFrame. */
  malformed: number;
  /** Names a call or channel with no party on this node (ended meanwhile). */
  unknownTalk: number;
}

export interface LinkCounters {
  framesOut: number;
  bytesOut: number;
  framesIn: number;
  bytesIn: number;
  dropped: LinkDrops;
}

/** The header of a talk's link datagrams, built once per talk. */
export function linkHeader(kind: LinkKind, id: string): Buffer {
  const idBytes = Buffer.from(id);
  if (idBytes.length < 1 || idBytes.length > 255) throw new RangeError(`link id of ${idBytes.length} bytes`);
  return Buffer.concat([Buffer.from([LINK_MAGIC_0, LINK_MAGIC_1, LINK_VERSION, kind, idBytes.length]), idBytes]);
}

interface Peer {
  readonly address: string;
  readonly port: number;
}

export class NodeLink {
  readonly counters: LinkCounters = { framesOut: 0, bytesOut: 0, framesIn: 0, bytesIn: 0, dropped: { notNode: 0, malformed: 0, unknownTalk: 0 } };
  /** Node id -> its advertised link address. */
  readonly #peers = new Map<string, Peer>();
  /** `address:port` -> node id: the only sources accepted. */
  readonly #sources = new Map<string, string>();
  #socket: dgram.Socket | undefined;
  #address: { host: string; port: number } | undefined;

  constructor(
    private readonly log: Logger,
    /** Called with each accepted frame (key emptied) and the node it came from. */
    private readonly deliver: (kind: LinkKind, id: string, frame: Buffer, from: string) => boolean,
  ) {}

  async open(host: string, port: number, bufferBytes: number): Promise<{ host: string; port: number }> {
    const socket = await bindUdp({ host, port, recvBufferSize: bufferBytes, sendBufferSize: bufferBytes });
    socket.on('error', (err) => this.log.debug('node link socket error', err));
    socket.on('message', (buf, rinfo) => {
      // A frame one node could not deliver must never take the node down.
      try {
        this.#onMessage(buf, rinfo);
      } catch (err) {
        this.counters.dropped.malformed++;
        this.log.debug(`node link frame from ${rinfo.address}:${rinfo.port} failed`, err);
      }
    });
    this.#socket = socket;
    const a = socket.address();
    this.#address = { host: a.address, port: a.port };
    return { ...this.#address };
  }

  address(): { host: string; port: number } | undefined {
    return this.#address ? { ...this.#address } : undefined;
  }

  hasPeer(node: string): boolean {
    return this.#peers.has(node);
  }

  /** `node`'s advertised link address (`host:port`): frames go there, and only frames from there are accepted. */
  setPeer(node: string, advertised: string): boolean {
    const i = advertised.lastIndexOf(':');
    const port = Number(advertised.slice(i + 1));
    const address = normaliseIp(advertised.slice(0, i).replace(/^\[|\]$/g, ''));
    if (i < 1 || !Number.isInteger(port) || port < 1 || port > 65535) return false;
    this.removePeer(node);
    this.#peers.set(node, { address, port });
    this.#sources.set(`${address}:${port}`, node);
    return true;
  }

  removePeer(node: string): void {
    const p = this.#peers.get(node);
    if (!p) return;
    this.#peers.delete(node);
    if (this.#sources.get(`${p.address}:${p.port}`) === node) this.#sources.delete(`${p.address}:${p.port}`);
  }

  /** One datagram (header + frame) to each node; returns how many went. */
  send(nodes: readonly string[], header: Buffer, frame: Buffer): number {
    const socket = this.#socket;
    if (socket === undefined) return 0;
    const c = this.counters;
    let n = 0;
    for (let i = 0; i < nodes.length; i++) {
      const p = this.#peers.get(nodes[i]!);
      if (p === undefined) continue;
      socket.send([header, frame], p.port, p.address);
      n++;
      c.framesOut++;
      c.bytesOut += header.length + frame.length;
    }
    return n;
  }

  async close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = undefined;
    this.#address = undefined;
    if (socket) await new Promise<void>((r) => socket.close(() => r()));
  }

  #onMessage(buf: Buffer, rinfo: dgram.RemoteInfo): void {
    const c = this.counters;
    const from = this.#sources.get(`${normaliseIp(rinfo.address)}:${rinfo.port}`);
    if (from === undefined) {
      c.dropped.notNode++;
      return;
    }
    c.framesIn++;
    c.bytesIn += buf.length;
    const n = buf.length > 5 ? buf[4]! : 0;
    const kind = buf[3];
    const start = 5 + n;
    if (
      n === 0 ||
      buf[0] !== LINK_MAGIC_0 ||
      buf[1] !== LINK_MAGIC_1 ||
      buf[2] !== LINK_VERSION ||
      (kind !== LINK_CALL && kind !== LINK_GROUP) ||
      buf.length <= start + 1 ||
      // The key emptied: a zero-length string, then the nick and the rest, well formed.
      buf[start] !== 0 ||
      !wellFormedAfterKey(buf.subarray(start))
    ) {
      c.dropped.malformed++;
      return;
    }
    if (!this.deliver(kind, buf.toString('utf8', 5, start), buf.subarray(start), from)) c.dropped.unknownTalk++;
  }
}

/** A key-emptied frame: byte 0 is the empty key; then the nick (a length varint and its bytes), seq, ts, payload. */
function wellFormedAfterKey(frame: Buffer): boolean {
  let i = 1;
  let raw = 0;
  let mul = 1;
  for (let k = 0; ; k++) {
    if (k >= 5 || i >= frame.length) return false;
    const b = frame[i++]!;
    raw += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) break;
    mul *= 128;
  }
  if (raw % 2 !== 0) return false;
  const nickEnd = i + raw / 2;
  return nickEnd <= frame.length && payloadLength(frame, nickEnd) >= 0;
}
