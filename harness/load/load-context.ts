/** What the load clients of one run share (clocks, the run context, nick decoding): its own module so that the TCP and UDP sides need not import each other. */
import { performance } from 'node:perf_hooks';
import type { PayloadDecoder } from '../client/opus.js';
import type { LoadMetrics } from './metrics.js';

/** Microseconds on the monotonic clock: text message timestamps and receive times. */
export function nowUs(): number {
  return performance.now() * 1000;
}

/** Milliseconds on the wall-aligned clock of `VoiceFrame.ts` (as the harness's VoiceClient uses). */
export function voiceNowMs(): number {
  return performance.timeOrigin + performance.now();
}

/** Where one client connects: a node's TCP port and its voice relay. */
export interface NodeEndpoint {
  readonly host: string;
  readonly port: number;
  readonly udpHost: string;
  readonly udpPort: number;
}

/** What every load client of one run shares. */
export interface LoadContext {
  /** The target's nodes (one unless a cluster); clients take them round robin through `nextNode`. */
  readonly nodes: readonly NodeEndpoint[];
  /** The node for the next client to connect. */
  nextNode(): NodeEndpoint;
  /** The text transport of every client. */
  readonly transport: 'tcp' | 'ws';
  /** Random letters in every nick and channel of this run. */
  readonly tag: string;
  readonly m: LoadMetrics;
  /** The measured window on the `nowUs` clock; messages stamped inside it count. */
  measureStartUs: number;
  measureEndUs: number;
  /** The same window on the voice clock (ms). */
  measureStartVoiceMs: number;
  measureEndVoiceMs: number;
  /** Called when an observer saw a delivery (open-loop senders may continue). */
  wake(): void;
  /** Per voice receiver, when frames are Opus (--voice-wav). */
  newDecoder?: () => PayloadDecoder;
}

/** Keys a (sender, seq) pair in one number. */
export const TWO32 = 0x1_0000_0000;

/** Index encoded in a nick or a VoiceFrame's nick field: the digits after the run tag's letters. */
export function digitsAfterLetters(buf: Buffer, start: number, end: number): number {
  let i = start;
  while (i < end && (buf[i]! < 0x30 || buf[i]! > 0x39)) i++;
  let v = 0;
  const from = i;
  for (; i < end; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) break;
    v = v * 10 + d;
  }
  return i === from ? -1 : v;
}
