/**
 * Real audio for the web chat: the microphone (getUserMedia) encoded to Opus by
 * WebCodecs' AudioEncoder in 20 ms frames, sent as VoiceFrames over the
 * WebSocket; received frames decoded by an AudioDecoder per speaker and played
 * through Web Audio. Counts are exposed for tests as `window.__voiceStats`.
 */
import type { BrowserVoiceFrame, ParleyBrowserClient } from '../client/index.js';

/** Chromium's MediaStreamTrackProcessor (not in TypeScript's DOM library yet). */
declare const MediaStreamTrackProcessor: { new (init: { track: MediaStreamTrack }): { readable: ReadableStream<AudioData> } } | undefined;

/** Opus at 48 kHz mono, 20 ms a frame: what the UDP clients send too. */
const SAMPLE_RATE = 48_000;
const FRAME_US = 20_000;
const BITRATE = 32_000;
/** Frames waiting on the WebSocket above which the microphone's frames are dropped. */
const MAX_BUFFERED_BYTES = 16 * 1024;

export interface VoiceStats {
  /** Frames with audio sent. */
  sent: number;
  /** Frames dropped before sending (the WebSocket was backed up). */
  sendDropped: number;
  /** Frames received, by speaker. */
  received: Record<string, number>;
  /** Frames decoded to audio, by speaker. */
  decoded: Record<string, number>;
  decodeErrors: number;
  /** Voice sessions started (microphone running) and stopped (everything received decoded). */
  started: number;
  stopped: number;
}

export const voiceStats: VoiceStats = { sent: 0, sendDropped: 0, received: {}, decoded: {}, decodeErrors: 0, started: 0, stopped: 0 };
(window as unknown as { __voiceStats: VoiceStats }).__voiceStats = voiceStats;

/** What this browser can do; a reason when it cannot talk. */
export async function voiceSupport(): Promise<string | undefined> {
  if (typeof AudioEncoder === 'undefined' || typeof AudioDecoder === 'undefined') return 'this browser has no WebCodecs audio';
  if (typeof MediaStreamTrackProcessor === 'undefined') return 'this browser has no MediaStreamTrackProcessor';
  const enc = await AudioEncoder.isConfigSupported({ codec: 'opus', sampleRate: SAMPLE_RATE, numberOfChannels: 1, bitrate: BITRATE });
  const dec = await AudioDecoder.isConfigSupported({ codec: 'opus', sampleRate: SAMPLE_RATE, numberOfChannels: 1 });
  return enc.supported && dec.supported ? undefined : 'this browser cannot encode or decode Opus';
}

/** One talk's audio: started with this client's own key, stopped on hang-up. */
export class VoiceSession {
  #seq = 0;
  #stopped = false;
  #stream: MediaStream | undefined;
  #encoder: AudioEncoder | undefined;
  #reader: ReadableStreamDefaultReader<AudioData> | undefined;
  readonly #decoders = new Map<string, AudioDecoder>();
  readonly #unsubscribe: () => void;
  readonly #audio = new AudioContext({ sampleRate: SAMPLE_RATE });
  #playAt = 0;

  private constructor(
    private readonly client: ParleyBrowserClient,
    private readonly key: string,
  ) {
    this.#unsubscribe = client.onVoice((f) => this.#receive(f));
    // Binds this connection to the talk at once, so that the others are heard before we speak.
    client.sendVoice({ key, nick: client.nick, seq: 0, ts: Date.now(), payload: new Uint8Array(0) });
  }

  static async start(client: ParleyBrowserClient, key: string): Promise<VoiceSession> {
    const s = new VoiceSession(client, key);
    try {
      await s.#capture();
      voiceStats.started++;
    } catch (err) {
      await s.stop();
      throw err;
    }
    return s;
  }

  /** Stops the microphone, sends what the encoder holds, then decodes what arrived. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const t of this.#stream?.getTracks() ?? []) t.stop();
    await this.#reader?.cancel().catch(() => {});
    const enc = this.#encoder;
    if (enc && enc.state === 'configured') await enc.flush().catch(() => {});
    enc?.close();
    this.#unsubscribe();
    for (const d of this.#decoders.values()) {
      if (d.state === 'configured') await d.flush().catch(() => {});
      d.close();
    }
    this.#decoders.clear();
    await this.#audio.close().catch(() => {});
    voiceStats.stopped++;
  }

  async #capture(): Promise<void> {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true } });
    this.#stream = stream;
    if (this.#stopped) return;
    const track = stream.getAudioTracks()[0];
    if (!track || MediaStreamTrackProcessor === undefined) throw new Error('no microphone track');
    const encoder = new AudioEncoder({
      output: (chunk) => this.#send(chunk),
      error: (e) => console.warn('voice encoder error', e),
    });
    this.#encoder = encoder;
    let configuredRate = 0;
    const reader = new MediaStreamTrackProcessor({ track }).readable.getReader();
    this.#reader = reader;
    void (async () => {
      for (;;) {
        const { value: data, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
        if (done || !data) return;
        if (this.#stopped || encoder.state === 'closed') {
          data.close();
          return;
        }
        if (configuredRate !== data.sampleRate) {
          configuredRate = data.sampleRate;
          encoder.configure({
            codec: 'opus',
            sampleRate: data.sampleRate,
            numberOfChannels: 1,
            bitrate: BITRATE,
            opus: { frameDuration: FRAME_US },
          } as AudioEncoderConfig);
        }
        const mono = toMono(data);
        data.close();
        encoder.encode(mono);
        mono.close();
      }
    })();
  }

  #send(chunk: EncodedAudioChunk): void {
    if (this.#stopped && this.#encoder?.state !== 'configured') return;
    const payload = new Uint8Array(chunk.byteLength);
    chunk.copyTo(payload);
    const ok = this.client.sendVoice({ key: this.key, nick: this.client.nick, seq: this.#seq++, ts: Date.now(), payload }, MAX_BUFFERED_BYTES);
    if (ok) voiceStats.sent++;
    else voiceStats.sendDropped++;
  }

  #receive(f: BrowserVoiceFrame): void {
    if (this.#stopped || f.payload.length === 0) return;
    voiceStats.received[f.nick] = (voiceStats.received[f.nick] ?? 0) + 1;
    let d = this.#decoders.get(f.nick);
    if (!d) {
      const nick = f.nick;
      d = new AudioDecoder({
        output: (data) => {
          voiceStats.decoded[nick] = (voiceStats.decoded[nick] ?? 0) + 1;
          this.#play(data);
        },
        error: () => {
          voiceStats.decodeErrors++;
          this.#decoders.delete(nick); // a closed decoder: the next frame makes a new one
        },
      });
      d.configure({ codec: 'opus', sampleRate: SAMPLE_RATE, numberOfChannels: 1 });
      this.#decoders.set(nick, d);
    }
    d.decode(new EncodedAudioChunk({ type: 'key', timestamp: f.seq * FRAME_US, data: f.payload }));
  }

  /** Schedules decoded audio right after what is already queued (a small jitter buffer of 60 ms). */
  #play(data: AudioData): void {
    try {
      const ctx = this.#audio;
      if (ctx.state === 'closed') return;
      const buf = ctx.createBuffer(1, data.numberOfFrames, data.sampleRate);
      const plane = new Float32Array(data.numberOfFrames);
      data.copyTo(plane, { planeIndex: 0, format: 'f32-planar' });
      buf.copyToChannel(plane, 0);
      const src = ctx.createBufferSource();
      src.buffer = buf;
      src.connect(ctx.destination);
      const now = ctx.currentTime;
      if (this.#playAt < now) this.#playAt = now + 0.06;
      src.start(this.#playAt);
      this.#playAt += buf.duration;
    } finally {
      data.close();
    }
  }
}

/** The first channel of `data` as a mono f32 AudioData (the microphone may deliver stereo). */
function toMono(data: AudioData): AudioData {
  const plane = new Float32Array(data.numberOfFrames);
  data.copyTo(plane, { planeIndex: 0, format: 'f32-planar' });
  return new AudioData({
    format: 'f32-planar',
    sampleRate: data.sampleRate,
    numberOfFrames: data.numberOfFrames,
    numberOfChannels: 1,
    timestamp: data.timestamp,
    data: plane,
  });
}
