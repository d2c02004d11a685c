/**
 * The UDP voice frame of PROTOCOL.md section 5: one Avro binary `VoiceFrame`
 * record per datagram. Exported for clients; the relay only decodes a frame
 * fully on the slow path (binding) and otherwise compares leading bytes.
 */
import avsc from 'avsc';

export const VOICE_FRAME_SCHEMA = {
  type: 'record',
  name: 'VoiceFrame',
  namespace: 'parley.voice',
  fields: [
    { name: 'key', type: 'string' },
    { name: 'nick', type: 'string' },
    { name: 'seq', type: 'long' },
    { name: 'ts', type: 'double' },
    { name: 'payload', type: 'bytes' },
  ],
} as const;

export interface VoiceFrame {
  /** The talk's session key. */
  key: string;
  /** The sender's nickname. */
  nick: string;
  /** Counts up from 0 per sender. */
  seq: number;
  /** Sender's clock, milliseconds. */
  ts: number;
  /** Codec data; empty for a bind/keepalive frame. */
  payload: Buffer;
}

export const voiceFrameType = avsc.Type.forSchema(VOICE_FRAME_SCHEMA as unknown as avsc.Schema);

export function encodeVoiceFrame(frame: VoiceFrame): Buffer {
  return voiceFrameType.toBuffer(frame);
}

/** Decodes one datagram; undefined when it is not exactly one valid VoiceFrame. */
export function decodeVoiceFrame(buf: Buffer): VoiceFrame | undefined {
  try {
    const { value, offset } = voiceFrameType.decode(buf, 0);
    if (offset !== buf.length || value === undefined) return undefined;
    return value as VoiceFrame;
  } catch {
    return undefined;
  }
}

/** Where the fields of a well-formed frame lie in its datagram. */
export interface FrameLayout {
  /** First byte of the key's UTF-8. */
  keyStart: number;
  /** End of the encoded key (its length varint included); the nick's varint starts here. */
  keyEnd: number;
  /** First byte of the nick's UTF-8. */
  nickStart: number;
  /** End of the encoded nick: the encoded key and nick are `buf.subarray(0, nickEnd)`. */
  nickEnd: number;
  payloadLength: number;
}

/**
 * Checks the whole record structurally without decoding it into objects: the
 * key and nick lengths fit, `seq` is a varint of at most 10 bytes, `ts` has its
 * 8 bytes, and the payload length ends the datagram exactly. Undefined when any
 * of that fails. Strings are not checked for UTF-8 here: the relay compares them
 * with known keys and nicks, which never match malformed text.
 */
export function scanVoiceFrame(buf: Buffer): FrameLayout | undefined {
  const keyLength = readLength(buf, 0);
  if (keyLength < 0) return undefined;
  const keyStart = next;
  const keyEnd = keyStart + keyLength;
  const nickLength = readLength(buf, keyEnd);
  if (nickLength < 0) return undefined;
  const nickStart = next;
  const nickEnd = nickStart + nickLength;
  if (nickEnd > buf.length) return undefined;
  const payload = payloadLength(buf, nickEnd);
  return payload < 0 ? undefined : { keyStart, keyEnd, nickStart, nickEnd, payloadLength: payload };
}

/** End of the varint `readLength` read last (module state keeps it allocation-free). */
let next = 0;

/** A string or bytes length (a zig-zag varint of at most 5 bytes) at `i`, -1 if malformed or past the end; sets `next`. */
function readLength(buf: Buffer, i: number): number {
  let raw = 0;
  let mul = 1;
  for (let n = 0; n < 5; n++) {
    if (i >= buf.length) return -1;
    const b = buf[i++]!;
    raw += (b & 0x7f) * mul;
    if ((b & 0x80) === 0) {
      if (raw % 2 !== 0) return -1; // negative
      const len = raw / 2;
      next = i;
      return i + len <= buf.length ? len : -1;
    }
    mul *= 128;
  }
  return -1;
}

/** The encoded `key` and `nick` fields: the leading bytes of every frame this party sends. */
export function framePrefix(key: string, nick: string): Buffer {
  return Buffer.concat([encodeString(key), encodeString(nick)]);
}

/**
 * Length of the payload of a frame whose first `prefixLength` bytes are its key
 * and nick, read without decoding: skips the `seq` varint and the 8-byte `ts`.
 * Returns -1 when the bytes do not form a well-formed frame.
 */
export function payloadLength(buf: Buffer, prefixLength: number): number {
  let i = prefixLength;
  const end = buf.length;
  // seq: a zig-zag varint of at most 10 bytes.
  let n = 0;
  while (i < end && (buf[i]! & 0x80) !== 0) {
    i++;
    if (++n >= 10) return -1;
  }
  i += 1 + 8; // last seq byte, then the double
  if (i >= end) return -1;
  // payload length: a zig-zag varint (small payloads: one or two bytes).
  const len = readLength(buf, i);
  return len >= 0 && next + len === end ? len : -1;
}

const stringType = avsc.Type.forSchema('string');

function encodeString(s: string): Buffer {
  return stringType.toBuffer(s);
}
