/**
 * A voice participant over UDP (PROTOCOL.md section 5): sends VoiceFrames for one
 * talk key, receives the frames the relay forwards, and measures them per sender.
 */
import * as dgram from 'node:dgram';
import { Subject, type Observable } from 'rxjs';
import { decodeVoiceFrame, encodeVoiceFrame, type VoiceFrame } from '../../plugins/voip/voice-frame.js';
import { JitterEstimator } from './jitter.js';
import { LatencySampler, type LatencySummary } from './percentile.js';

export interface VoiceClientOptions {
  /** The server's address. Default 127.0.0.1. */
  host?: string;
  /** The server's UDP (voice relay) port. */
  port: number;
  /** The talk's session key. */
  key: string;
  /** This participant's nickname. */
  nick: string;
  /** Local address to bind. Default: any. */
  bindAddress?: string;
}

/** A frame as received, with the receiver's clock (same clock as `VoiceFrame.ts`). */
export interface ReceivedFrame {
  frame: VoiceFrame;
  receivedAt: number;
}

/** What was received from one sender (or from all of them, in the totals). */
export interface SenderStats {
  /** Frames received, duplicates excluded. */
  received: number;
  /** Sequence numbers up to the highest seen that never arrived. */
  lost: number;
  duplicates: number;
  /** Frames that arrived after one with a higher sequence number. */
  outOfOrder: number;
  /** receivedAt - ts, in milliseconds (meaningful when sender and receiver share a clock). */
  latencyMs: LatencySummary;
  /** RFC 3550 interarrival jitter in milliseconds; in the totals, the mean over senders. */
  jitterMs: number;
}

export interface VoiceStats {
  /** Frames this client sent (binding frames included). */
  sent: number;
  /** Datagrams that were not one valid VoiceFrame. */
  undecodable: number;
  /** By sender nick. */
  senders: Record<string, SenderStats>;
  totals: SenderStats;
}

export interface PacedOptions {
  /** Payload size of each frame. */
  payloadBytes: number;
  /** Milliseconds between frames. Default 20 (50 frames/s). */
  frameMs?: number;
  /** How many frames to send. */
  frames: number;
  /** Stops early when aborted (resolves, does not reject). */
  signal?: AbortSignal;
}

/** Sequence numbers remembered per sender to spot duplicates; older ones count as late duplicates. */
const SEQ_WINDOW = 65_536;

class SenderState {
  received = 0;
  duplicates = 0;
  outOfOrder = 0;
  highest = -1;
  readonly seen = new Set<number>();
  readonly latency = new LatencySampler();
  readonly jitter = new JitterEstimator();

  add(frame: VoiceFrame, receivedAt: number): void {
    const seq = frame.seq;
    if (this.seen.has(seq) || seq < this.highest - SEQ_WINDOW) {
      this.duplicates++;
      return;
    }
    this.seen.add(seq);
    if (this.seen.size > 2 * SEQ_WINDOW) {
      for (const s of this.seen) if (s < this.highest - SEQ_WINDOW) this.seen.delete(s);
    }
    this.received++;
    if (seq < this.highest) this.outOfOrder++;
    else this.highest = seq;
    this.latency.record(receivedAt - frame.ts);
    this.jitter.update(receivedAt, frame.ts);
  }

  stats(): SenderStats {
    return {
      received: this.received,
      lost: Math.max(0, this.highest + 1 - this.received),
      duplicates: this.duplicates,
      outOfOrder: this.outOfOrder,
      latencyMs: this.latency.summary(),
      jitterMs: this.jitter.value,
    };
  }
}

/** Milliseconds on a clock shared by every process of the machine. */
export function voiceClock(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * @example
 * const v = await VoiceClient.open({ port: udpPort, key, nick: 'alice' });
 * v.bind();
 * await v.paced({ payloadBytes: 160, frames: 50 });
 * console.log(v.stats().totals);
 * await v.close();
 */
export class VoiceClient {
  /** Every frame received, decoded. */
  readonly frames$: Observable<ReceivedFrame>;
  readonly key: string;
  readonly nick: string;

  readonly #socket: dgram.Socket;
  readonly #host: string;
  readonly #port: number;
  readonly #frames = new Subject<ReceivedFrame>();
  readonly #senders = new Map<string, SenderState>();
  #seq = 0;
  #sent = 0;
  #undecodable = 0;
  #closed = false;

  private constructor(socket: dgram.Socket, opts: VoiceClientOptions) {
    this.#socket = socket;
    this.#host = opts.host ?? '127.0.0.1';
    this.#port = opts.port;
    this.key = opts.key;
    this.nick = opts.nick;
    this.frames$ = this.#frames.asObservable();
    socket.on('message', (buf) => this.#onMessage(buf));
    // A send to a closed port reports ICMP errors here; UDP loss is what we measure.
    socket.on('error', () => {});
  }

  /** Creates and binds a udp4 socket (sends nothing). */
  static async open(opts: VoiceClientOptions): Promise<VoiceClient> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind({ port: 0, address: opts.bindAddress }, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    return new VoiceClient(socket, opts);
  }

  /** The local UDP address. */
  address(): { address: string; port: number } {
    const a = this.#socket.address();
    return { address: a.address, port: a.port };
  }

  /** Sequence number of the next frame with a payload. */
  get seq(): number {
    return this.#seq;
  }

  /**
   * Sends a frame with an empty payload: it binds this socket's address to
   * (key, nick), or keeps the binding alive. It does not use up a sequence number,
   * since the relay never forwards it.
   */
  bind(): void {
    this.#sendFrame(Buffer.alloc(0), this.#seq);
  }

  /** Sends the next frame (seq counts up from 0, ts is {@link voiceClock}). */
  send(payload: Buffer): void {
    this.#sendFrame(payload, this.#seq++);
  }

  /** Sends a datagram as it is. */
  sendRaw(buf: Buffer): void {
    if (this.#closed) return;
    this.#sent++;
    this.#socket.send(buf, this.#port, this.#host);
  }

  /**
   * Sends `frames` frames of `payloadBytes` bytes, one every `frameMs`, on a
   * schedule computed from the start so that timer lateness does not accumulate.
   * @returns once the last frame is sent
   */
  paced(opts: PacedOptions): Promise<void> {
    const frameMs = opts.frameMs ?? 20;
    if (!(frameMs > 0)) throw new RangeError(`frameMs must be positive, got ${frameMs}`);
    const payload = Buffer.alloc(opts.payloadBytes, 0x55);
    const start = performance.now();
    return new Promise((resolve) => {
      let i = 0;
      const tick = (): void => {
        if (this.#closed || opts.signal?.aborted) return resolve();
        // Catch up (send several) if the timer fired a whole frame late.
        while (i < opts.frames && performance.now() >= start + i * frameMs) {
          this.send(payload);
          i++;
        }
        if (i >= opts.frames) return resolve();
        setTimeout(tick, Math.max(0, start + i * frameMs - performance.now()));
      };
      tick();
    });
  }

  /** Counts, losses, latency and jitter of what was received, per sender and in total. */
  stats(): VoiceStats {
    const senders: Record<string, SenderStats> = {};
    const latency = new LatencySampler();
    const totals = { received: 0, lost: 0, duplicates: 0, outOfOrder: 0, jitterMs: 0 };
    for (const [nick, st] of this.#senders) {
      const s = (senders[nick] = st.stats());
      totals.received += s.received;
      totals.lost += s.lost;
      totals.duplicates += s.duplicates;
      totals.outOfOrder += s.outOfOrder;
      totals.jitterMs += s.jitterMs;
      latency.merge(st.latency);
    }
    if (this.#senders.size > 0) totals.jitterMs /= this.#senders.size;
    return { sent: this.#sent, undecodable: this.#undecodable, senders, totals: { ...totals, latencyMs: latency.summary() } };
  }

  /** Closes the socket; `frames$` completes. */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.#frames.complete();
    return new Promise((resolve) => this.#socket.close(() => resolve()));
  }

  #sendFrame(payload: Buffer, seq: number): void {
    this.sendRaw(encodeVoiceFrame({ key: this.key, nick: this.nick, seq, ts: voiceClock(), payload }));
  }

  #onMessage(buf: Buffer): void {
    const receivedAt = voiceClock();
    const frame = decodeVoiceFrame(buf);
    if (!frame) {
      this.#undecodable++;
      return;
    }
    let st = this.#senders.get(frame.nick);
    if (!st) this.#senders.set(frame.nick, (st = new SenderState()));
    st.add(frame, receivedAt);
    this.#frames.next({ frame, receivedAt });
  }
}
