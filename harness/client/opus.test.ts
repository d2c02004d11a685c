// --voice-wav: WAV parsing, resampling and Opus frames that decode.
import test from 'ava';
import { encodeOpusFrames, opusDecoder, parseWav, toMono48k } from './opus.js';

/** A 16-bit PCM WAV of a sine per channel. */
function wav(opts: { rate: number; channels: number; seconds: number; bits?: number }): Buffer {
  const bits = opts.bits ?? 16;
  const frames = Math.round(opts.rate * opts.seconds);
  const bytes = (bits / 8) * opts.channels;
  const data = Buffer.alloc(frames * bytes);
  for (let f = 0; f < frames; f++) {
    for (let c = 0; c < opts.channels; c++) {
      const v = Math.round(8000 * Math.sin((2 * Math.PI * (440 + 220 * c) * f) / opts.rate));
      if (bits === 16) data.writeInt16LE(v, f * bytes + 2 * c);
      else data.writeUInt8(128 + (v >> 8), f * bytes + c);
    }
  }
  const head = Buffer.alloc(44);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(36 + data.length, 4);
  head.write('WAVEfmt ', 8, 'latin1');
  head.writeUInt32LE(16, 16);
  head.writeUInt16LE(1, 20);
  head.writeUInt16LE(opts.channels, 22);
  head.writeUInt32LE(opts.rate, 24);
  head.writeUInt32LE(opts.rate * bytes, 28);
  head.writeUInt16LE(bytes, 32);
  head.writeUInt16LE(bits, 34);
  head.write('data', 36, 'latin1');
  head.writeUInt32LE(data.length, 40);
  return Buffer.concat([head, data]);
}

test('parseWav - reads the format and the interleaved samples', (t) => {
  const a = parseWav(wav({ rate: 44_100, channels: 2, seconds: 0.1 }));
  t.is(a.sampleRate, 44_100);
  t.is(a.channels, 2);
  t.is(a.samples.length, 4410 * 2);
});

test('parseWav - refuses what it cannot play', (t) => {
  t.throws(() => parseWav(Buffer.from('not a wav file at all')), { message: /RIFF/ });
  t.throws(() => parseWav(wav({ rate: 8000, channels: 1, seconds: 0.1, bits: 8 })), { message: /16-bit PCM/ });
});

test('toMono48k - averages channels and resamples to 48 kHz', (t) => {
  const mono = toMono48k({ sampleRate: 24_000, channels: 2, samples: Int16Array.from([100, 300, 200, 400]) });
  t.deepEqual([...mono], [200, 250, 300, 300]);
});

test('encodeOpusFrames - 20 ms frames that an Opus decoder accepts', (t) => {
  const frames = encodeOpusFrames(wav({ rate: 44_100, channels: 2, seconds: 0.5 }));
  t.is(frames.length, 25);
  const dec = opusDecoder();
  t.teardown(() => dec.close?.());
  for (const f of frames) t.notThrows(() => dec.decode(f));
  t.throws(() => dec.decode(Buffer.alloc(60, 0x55)), undefined, 'filler is not Opus');
  t.throws(() => encodeOpusFrames(wav({ rate: 48_000, channels: 1, seconds: 0.01 })), { message: /less than one/ });
  t.throws(() => encodeOpusFrames(wav({ rate: 48_000, channels: 1, seconds: 0.1 }), 15), { message: /not 15/ });
});
