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
  let shift = 0;
  let raw = 0;
  for (;;) {
    if (i >= end || shift > 28) return -1;
    const b = buf[i++]!;
    raw |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) break;
    shift += 7;
  }
  if (raw & 1) return -1; // negative length
  const len = raw >>> 1;
  return i + len === end ? len : -1;
}

const stringType = avsc.Type.forSchema('string');

function encodeString(s: string): Buffer {
  return stringType.toBuffer(s);
}
