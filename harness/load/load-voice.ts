/**
 * The lean UDP voice participant of a load run: encodes frames by hand behind a
 * precomputed key+nick prefix (the Avro layout of PROTOCOL.md section 5) and
 * reads the fields of received frames in place, per sender: loss, duplicates,
 * order, latency and RFC 3550 jitter.
 */
import * as dgram from 'node:dgram';
import { framePrefix } from '../../plugins/voip/voice-frame.js';
import type { PayloadDecoder } from '../client/opus.js';
import { digitsAfterLetters, TWO32, voiceNowMs, type LoadContext, type NodeEndpoint } from './load-context.js';
import { bump } from './metrics.js';
import { encodeLoadFrame } from './voice-frame-fast.js';

export { encodeLoadFrame } from './voice-frame-fast.js';

/** Receive state of one sender's frames at one receiver. */
interface VoiceStream {
  next: number;
  prevTransit: number;
  /** RFC 3550 interarrival jitter estimate, ms. */
  jitter: number;
}

export class LoadVoice {
  readonly #ctx: LoadContext;
  /** The relay of the node this client is on. */
  readonly #node: NodeEndpoint;
  readonly #socket: dgram.Socket;
  readonly #prefix: Buffer;
  readonly #streams = new Map<number, VoiceStream>();
  #missing: Set<number> | undefined;
  #decoder: PayloadDecoder | undefined;
  #seq = 0;
  #closed = false;

  private constructor(ctx: LoadContext, socket: dgram.Socket, key: string, nick: string, node: NodeEndpoint) {
    this.#ctx = ctx;
    this.#node = node;
    this.#socket = socket;
    this.#prefix = framePrefix(key, nick);
    socket.on('message', (buf) => this.#onFrame(buf));
    socket.on('error', () => {}); // ICMP unreachable and the like: loss is what is measured
  }

  /** Binds a udp4 socket on any port. */
  static async open(ctx: LoadContext, key: string, nick: string, node: NodeEndpoint = ctx.nodes[0]!): Promise<LoadVoice> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(0, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new LoadVoice(ctx, socket, key, nick, node);
  }

  /** Frames with a payload sent so far (the next frame's seq). */
  get seq(): number {
    return this.#seq;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Per sender heard: final RFC 3550 jitter estimates (ms). */
  jitters(): number[] {
    return [...this.#streams.values()].map((s) => s.jitter);
  }

  /** An empty-payload frame: binds this socket to (key, nick) at the relay. */
  bind(): void {
    if (!this.#closed) this.#ctx.m.voice.bindingSent++;
    this.#send(Buffer.alloc(0), this.#seq, voiceNowMs());
  }

  /**
   * Sends the next frame, stamped now.
   * @returns the timestamp it carries (voice clock, ms)
   */
  send(payload: Buffer): number {
    const ts = voiceNowMs();
    this.#send(payload, this.#seq++, ts);
    return ts;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#decoder?.close?.();
    this.#socket.close();
  }

  #send(payload: Buffer, seq: number, ts: number): void {
    if (this.#closed) return;
    this.#socket.send(encodeLoadFrame(this.#prefix, seq, ts, payload), this.#node.udpPort, this.#node.udpHost);
  }

  #onFrame(buf: Buffer): void {
    const arrival = voiceNowMs();
    const ctx = this.#ctx;
    const v = ctx.m.voice;
    // key, nick (strings), seq (long), ts (double), payload (bytes)
    // Lengths and seq are zig-zag longs: an odd raw value would be negative.
    let r = readVarint(buf, 0);
    if (r < 0 || r % 2 !== 0) return void bump(ctx.m.errors, 'BAD_FRAME');
    let i = pos + r / 2;
    r = readVarint(buf, i);
    if (r < 0 || r % 2 !== 0) return void bump(ctx.m.errors, 'BAD_FRAME');
    const nickStart = pos;
    i = pos + r / 2;
    const sender = digitsAfterLetters(buf, nickStart, i);
    r = readVarint(buf, i);
    if (r < 0 || r % 2 !== 0 || pos + 8 > buf.length) return void bump(ctx.m.errors, 'BAD_FRAME');
    const seq = r / 2;
    const ts = buf.readDoubleLE(pos);
    r = readVarint(buf, pos + 8);
    if (r < 0 || r % 2 !== 0 || pos + r / 2 !== buf.length || sender < 0) return void bump(ctx.m.errors, 'BAD_FRAME');
    const payloadStart = pos;

    v.framesReceivedAll++;
    const measured = ts >= ctx.measureStartVoiceMs && ts < ctx.measureEndVoiceMs;
    let st = this.#streams.get(sender);
    if (st === undefined) this.#streams.set(sender, (st = { next: 0, prevTransit: NaN, jitter: 0 }));
    if (seq === st.next) {
      st.next = seq + 1;
    } else if (seq > st.next) {
      if (seq - st.next <= 100_000) {
        const miss = (this.#missing ??= new Set());
        for (let k = st.next; k < seq; k++) miss.add(sender * TWO32 + k);
      }
      st.next = seq + 1;
    } else if (this.#missing?.delete(sender * TWO32 + seq)) {
      if (measured) v.outOfOrder++;
    } else {
      if (measured) v.duplicates++;
      return;
    }
    // RFC 3550 section 6.4.1: J += (|D(i-1,i)| - J) / 16, D being the change in transit time.
    const transit = arrival - ts;
    if (!Number.isNaN(st.prevTransit)) st.jitter += (Math.abs(transit - st.prevTransit) - st.jitter) / 16;
    st.prevTransit = transit;
    if (!measured) return;
    v.framesReceived++;
    v.latency.recordUs((arrival - ts) * 1000);
    if (ctx.newDecoder !== undefined) {
      this.#decoder ??= ctx.newDecoder();
      try {
        this.#decoder.decode(buf.subarray(payloadStart));
      } catch {
        v.undecodable++;
      }
    }
  }
}

/** End of the last varint read by `readVarint` (module state keeps the hot path allocation-free). */
let pos = 0;

/** Reads an unsigned varint at `i` into a number (exact below 2^53); -1 if truncated. Sets `pos`. */
function readVarint(buf: Buffer, i: number): number {
  let v = 0;
  let mul = 1;
  for (let n = 0; n < 8; n++) {
    if (i >= buf.length) return -1;
    const b = buf[i++]!;
    v += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) {
      pos = i;
      return v;
    }
    mul *= 128;
  }
  return -1;
}
