/**
 * `--voice-wav`: a 16-bit PCM WAV file encoded once with Opus (opusscript) into
 * frames that the talkers replay, and decoders for the receivers, which count
 * frames that do not decode.
 */
import { readFile } from 'node:fs/promises';
import type OpusScriptClass from 'opusscript';

/** Decodes Opus payloads; throws on an undecodable one. */
export interface PayloadDecoder {
  decode(payload: Buffer): void;
  /** Frees the decoder. */
  close?(): void;
}

/** opusscript is a 1 MB WebAssembly module: loaded on first use only, so clients without Opus never pay for it. */
function opusScript(): typeof OpusScriptClass {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('opusscript') as typeof OpusScriptClass;
}

export interface WavAudio {
  sampleRate: number;
  channels: number;
  /** Interleaved 16-bit samples. */
  samples: Int16Array;
}

const OPUS_RATE = 48_000;
/** Frame lengths Opus accepts, ms. */
export const OPUS_FRAME_MS = [2.5, 5, 10, 20, 40, 60] as const;

/** Parses a RIFF/WAVE file of 16-bit PCM; throws a readable Error otherwise. */
export function parseWav(buf: Buffer): WavAudio {
  if (buf.length < 12 || buf.toString('latin1', 0, 4) !== 'RIFF' || buf.toString('latin1', 8, 12) !== 'WAVE') {
    throw new Error('not a RIFF/WAVE file');
  }
  let fmt: { format: number; channels: number; sampleRate: number; bits: number } | undefined;
  let i = 12;
  while (i + 8 <= buf.length) {
    const id = buf.toString('latin1', i, i + 4);
    const size = buf.readUInt32LE(i + 4);
    const body = i + 8;
    if (id === 'fmt ' && size >= 16) {
      fmt = { format: buf.readUInt16LE(body), channels: buf.readUInt16LE(body + 2), sampleRate: buf.readUInt32LE(body + 4), bits: buf.readUInt16LE(body + 14) };
      // WAVE_FORMAT_EXTENSIBLE: the real format is the sub-format GUID's first two bytes.
      if (fmt.format === 0xfffe && size >= 26) fmt.format = buf.readUInt16LE(body + 24);
    } else if (id === 'data') {
      if (!fmt) throw new Error('WAV data chunk before its fmt chunk');
      if (fmt.format !== 1 || fmt.bits !== 16) throw new Error(`only 16-bit PCM WAV is supported (format ${fmt.format}, ${fmt.bits} bits)`);
      if (fmt.channels < 1 || fmt.channels > 2) throw new Error(`only mono or stereo WAV is supported (${fmt.channels} channels)`);
      const end = Math.min(buf.length, body + size);
      const n = Math.floor((end - body) / 2);
      const samples = new Int16Array(n);
      for (let k = 0; k < n; k++) samples[k] = buf.readInt16LE(body + 2 * k);
      return { sampleRate: fmt.sampleRate, channels: fmt.channels, samples };
    }
    i = body + size + (size & 1); // chunks are padded to even sizes
  }
  throw new Error('WAV file has no data chunk');
}

/** Mono at 48 kHz: channels averaged, other rates resampled by linear interpolation. */
export function toMono48k(wav: WavAudio): Int16Array {
  const { channels, samples, sampleRate } = wav;
  const frames = Math.floor(samples.length / channels);
  const mono = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += samples[f * channels + c]!;
    mono[f] = sum / channels;
  }
  if (sampleRate <= 0) throw new Error('WAV sample rate is 0');
  const outLen = Math.floor((frames * OPUS_RATE) / sampleRate);
  const out = new Int16Array(outLen);
  for (let k = 0; k < outLen; k++) {
    const x = (k * sampleRate) / OPUS_RATE;
    const a = Math.floor(x);
    const b = Math.min(a + 1, frames - 1);
    const v = mono[a]! + (mono[b]! - mono[a]!) * (x - a);
    out[k] = Math.max(-32768, Math.min(32767, Math.round(v)));
  }
  return out;
}

/**
 * Encodes a WAV file's audio into Opus frames.
 * @param frameMs frame length (default 20)
 * @param maxSeconds audio used at most (default 30), since encoding costs ~0.5 ms per frame
 */
export function encodeOpusFrames(wavFile: Buffer, frameMs = 20, maxSeconds = 30): Buffer[] {
  if (!(OPUS_FRAME_MS as readonly number[]).includes(frameMs)) throw new RangeError(`Opus frames last ${OPUS_FRAME_MS.join(', ')} ms, not ${frameMs}`);
  const pcm = toMono48k(parseWav(wavFile));
  const frameSize = (OPUS_RATE * frameMs) / 1000;
  const count = Math.min(Math.floor(pcm.length / frameSize), Math.floor((maxSeconds * 1000) / frameMs));
  if (count < 1) throw new Error(`WAV file holds less than one ${frameMs} ms frame of audio`);
  const OpusScript = opusScript();
  const enc = new OpusScript(OPUS_RATE, 1, OpusScript.Application.VOIP);
  try {
    const frames: Buffer[] = [];
    // opusscript copies its input element-wise into 16-bit memory: pass samples, not bytes.
    for (let k = 0; k < count; k++) frames.push(enc.encode(pcm.subarray(k * frameSize, (k + 1) * frameSize) as unknown as Buffer, frameSize));
    return frames;
  } finally {
    enc.delete();
  }
}

/** Reads and encodes a WAV file (see {@link encodeOpusFrames}). */
export async function readVoiceWav(file: string, frameMs = 20): Promise<Buffer[]> {
  return encodeOpusFrames(await readFile(file), frameMs);
}

/** One Opus decoder per receiver; `decode` throws on an invalid packet. */
export function opusDecoder(): PayloadDecoder {
  const OpusScript = opusScript();
  const dec = new OpusScript(OPUS_RATE, 1, OpusScript.Application.VOIP);
  return {
    decode(payload: Buffer): void {
      dec.decode(payload);
    },
    close(): void {
      dec.delete();
    },
  };
}
