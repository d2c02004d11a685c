import { ParleyError, type InjectionToken } from '../../core/index.js';

export interface VoipOptions {
  /**
   * Milliseconds a talk request waits for ACCEPT or DENY, and an accepted 1:1
   * call may go without a voice frame carrying a payload. Default 30 000.
   */
  talkTimeoutMs: number;
  /** UDP port of the voice relay; 0 picks a free one. Default: the TCP port. */
  udpPort: number | undefined;
  /** UDP bind address of the voice relay. Default: the TCP bind address. */
  udpHost: string | undefined;
  /** Receive buffer of the UDP socket, bytes. Default 4 MiB. */
  recvBufferBytes: number;
  /** Send buffer of the UDP socket, bytes. Default 4 MiB. */
  sendBufferBytes: number;
  /** Largest voice frame (header included) a participant may send, bytes; larger ones are dropped and counted. Default 1400. */
  maxFrameBytes: number;
  /** Voice frames per second one participant may send (token refill rate); past it frames are dropped and counted. Default 100. */
  frameRate: number;
  /** Voice frames one participant may send in one burst above the rate. Default 50. */
  frameBurst: number;
}

export const DEFAULT_VOIP_OPTIONS: Readonly<VoipOptions> = Object.freeze({
  talkTimeoutMs: 30_000,
  udpPort: undefined,
  udpHost: undefined,
  recvBufferBytes: 4 * 1024 * 1024,
  sendBufferBytes: 4 * 1024 * 1024,
  maxFrameBytes: 1400,
  frameRate: 100,
  frameBurst: 50,
});

export const VOIP_OPTIONS: InjectionToken<VoipOptions> = Symbol('parley.VoipOptions');

/** Defaults filled in and every value checked; throws PARLEY_ERR_INVALID_OPTION. */
export function resolveVoipOptions(given: Partial<VoipOptions> = {}): VoipOptions {
  const opts: VoipOptions = { ...DEFAULT_VOIP_OPTIONS };
  for (const [k, v] of Object.entries(given)) {
    if (!(k in DEFAULT_VOIP_OPTIONS)) throw invalid(k, 'unknown option');
    if (v !== undefined) (opts as unknown as Record<string, unknown>)[k] = v;
  }
  const t = opts.talkTimeoutMs;
  if (typeof t !== 'number' || !Number.isFinite(t) || t <= 0) throw invalid('talkTimeoutMs', `must be a positive number, got ${String(t)}`);
  const p = opts.udpPort;
  if (p !== undefined && (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 65535)) {
    throw invalid('udpPort', `must be a port number 0-65535, got ${String(p)}`);
  }
  const h = opts.udpHost;
  if (h !== undefined && (typeof h !== 'string' || h === '')) throw invalid('udpHost', 'must be a non-empty address');
  for (const k of ['recvBufferBytes', 'sendBufferBytes', 'maxFrameBytes', 'frameRate', 'frameBurst'] as const) {
    const b = opts[k];
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 1) throw invalid(k, `must be a positive whole number, got ${String(b)}`);
  }
  return opts;
}

function invalid(key: string, why: string): ParleyError {
  return new ParleyError('PARLEY_ERR_INVALID_OPTION', `voip.${key}`, why);
}
