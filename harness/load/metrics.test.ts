// The latency histogram agrees with hdr-histogram-js; load frames are valid VoiceFrames.
import test from 'ava';
import * as hdr from 'hdr-histogram-js';
import { LatencyHistogram } from './metrics.js';
import { encodeLoadFrame } from './load-voice.js';
import { decodeVoiceFrame, encodeVoiceFrame, framePrefix } from '../../plugins/voip/voice-frame.js';

test('LatencyHistogram - percentiles equal those of hdr-histogram-js at 3 digits', (t) => {
  const mine = new LatencyHistogram();
  const ref = hdr.build({ numberOfSignificantValueDigits: 3 });
  let seed = 42;
  const rnd = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  for (let i = 0; i < 50_000; i++) {
    const us = Math.round(Math.exp(rnd() * 21)); // 1 µs .. ~20 min
    mine.recordUs(us);
    ref.recordValue(us);
  }
  const s = mine.summary();
  const ms = (p: number): number => Math.round(ref.getValueAtPercentile(p)) / 1000;
  t.is(s.count, 50_000);
  t.is(s.p50, ms(50));
  t.is(s.p90, ms(90));
  t.is(s.p97_5, ms(97.5));
  t.is(s.p99, ms(99));
  t.is(s.p999, ms(99.9));
  t.is(s.max, Math.round(ref.maxValue) / 1000);
});

test('LatencyHistogram - empty is all zeros; negatives count as 0; reads in between keep everything', (t) => {
  const h = new LatencyHistogram();
  t.deepEqual(h.summary(), { p50: 0, p90: 0, p97_5: 0, p99: 0, p999: 0, max: 0, mean: 0, count: 0 });
  h.recordUs(-5);
  h.recordUs(1500);
  t.is(h.percentileMs(100), 1.5);
  h.recordUs(3000);
  const s = h.summary();
  t.is(s.count, 3);
  t.is(s.p50, 1.5);
  t.is(s.max, 3);
  t.is(s.mean, 1.5);
});

test('encodeLoadFrame - writes the same bytes as the Avro VoiceFrame encoder', (t) => {
  for (const seq of [0, 1, 63, 64, 8191, 8192, 2 ** 31, 2 ** 40]) {
    for (const size of [0, 1, 63, 64, 200, 9000]) {
      const frame = { key: 'K3yK3yK3yK3yK3yK', nick: 'abcde12', seq, ts: 1732480000123.456, payload: Buffer.alloc(size, 7) };
      const mine = encodeLoadFrame(framePrefix(frame.key, frame.nick), seq, frame.ts, frame.payload);
      t.deepEqual(mine, encodeVoiceFrame(frame), `seq ${seq}, ${size} bytes`);
      t.is(decodeVoiceFrame(mine)?.seq, seq);
    }
  }
});
