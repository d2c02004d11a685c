/**
 * The Avro `VoiceFrame` of PROTOCOL.md section 5 for browsers: the same bytes as
 * the server's `avsc` encoding, with DataView and TextEncoder only.
 */

export interface BrowserVoiceFrame {
  /** The sender's own talk key; empty in frames the relay forwards. */
  key: string;
  nick: string;
  /** Counts up from 0 per sender. */
  seq: number;
  /** Sender's clock, milliseconds. */
  ts: number;
  /** Codec data (Opus); empty for a bind/keepalive frame. */
  payload: Uint8Array;
}

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder('utf-8', { fatal: true });

/** Encodes one frame as a binary WebSocket message. */
export function encodeVoiceFrame(f: BrowserVoiceFrame): Uint8Array<ArrayBuffer> {
  const key = utf8.encode(f.key);
  const nick = utf8.encode(f.nick);
  const out = new Uint8Array(key.length + nick.length + f.payload.length + 3 * 5 + 10 + 8);
  let i = writeLong(out, 0, key.length);
  out.set(key, i);
  i = writeLong(out, i + key.length, nick.length);
  out.set(nick, i);
  i = writeLong(out, i + nick.length, f.seq);
  new DataView(out.buffer, out.byteOffset + i, 8).setFloat64(0, f.ts, true);
  i = writeLong(out, i + 8, f.payload.length);
  out.set(f.payload, i);
  return out.subarray(0, i + f.payload.length);
}

/** Decodes one frame; undefined unless the bytes are exactly one well-formed VoiceFrame. */
export function decodeVoiceFrame(buf: Uint8Array): BrowserVoiceFrame | undefined {
  try {
    const r = { i: 0 };
    const key = readString(buf, r);
    const nick = readString(buf, r);
    const seq = readLong(buf, r);
    if (r.i + 8 > buf.length) return undefined;
    const ts = new DataView(buf.buffer, buf.byteOffset + r.i, 8).getFloat64(0, true);
    r.i += 8;
    const n = readLong(buf, r);
    if (n < 0 || r.i + n !== buf.length) return undefined;
    return { key, nick, seq, ts, payload: buf.subarray(r.i) };
  } catch {
    return undefined;
  }
}

/** Zig-zag varint of a whole number within ±2^53 (Avro `long`), arithmetic instead of 32-bit bit operations. */
function writeLong(out: Uint8Array, i: number, v: number): number {
  let z = v >= 0 ? v * 2 : -v * 2 - 1;
  while (z >= 0x80) {
    out[i++] = (z % 0x80) | 0x80;
    z = Math.floor(z / 0x80);
  }
  out[i++] = z;
  return i;
}

function readLong(buf: Uint8Array, r: { i: number }): number {
  let z = 0;
  let mul = 1;
  for (let n = 0; n < 10; n++) {
    if (r.i >= buf.length) throw new RangeError('truncated');
    const b = buf[r.i++]!;
    z += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
    mul *= 0x80;
  }
  throw new RangeError('varint too long');
}

function readString(buf: Uint8Array, r: { i: number }): string {
  const n = readLong(buf, r);
  if (n < 0 || r.i + n > buf.length) throw new RangeError('bad length');
  const s = fromUtf8.decode(buf.subarray(r.i, r.i + n));
  r.i += n;
  return s;
}
