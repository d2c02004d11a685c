/**
 * The one fast VoiceFrame encoder of the load harness and the benchmarks: the bytes `encodeVoiceFrame`
 * (plugins/voip/voice-frame.ts) would produce, built behind a party's precomputed key+nick prefix
 * (`framePrefix`) without an Avro encoder per frame. metrics.test checks it against the reference encoder.
 */

/** Writes `v` (a non-negative integer below 2^53) as a varint at `i`; returns the end. */
function writeVarint(buf: Buffer, i: number, v: number): number {
  while (v >= 0x80) {
    buf[i++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  buf[i++] = v;
  return i;
}

/** A VoiceFrame `{key, nick, seq, ts, payload}` whose key+nick Avro prefix is `prefix`. */
export function encodeLoadFrame(prefix: Buffer, seq: number, ts: number, payload: Buffer): Buffer {
  const buf = Buffer.allocUnsafe(prefix.length + 10 + 8 + 5 + payload.length);
  prefix.copy(buf, 0);
  let i = writeVarint(buf, prefix.length, seq * 2);
  buf.writeDoubleLE(ts, i);
  i = writeVarint(buf, i + 8, payload.length * 2);
  payload.copy(buf, i);
  return buf.subarray(0, i + payload.length);
}
