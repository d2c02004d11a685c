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
  /**
   * Largest voice datagram a participant may send, bytes as sent (key included);
   * larger ones are dropped and counted (`tooLarge`). Default 1400.
   */
  maxFrameBytes: number;
  /**
   * Datagrams a second per participant and talk (token bucket refill rate);
   * more are dropped and counted (`rateLimited`). 0 turns the bound off. Default 100.
   */
  frameRate: number;
  /** Datagrams the token bucket holds: a participant may send this many at once. Default 50. */
  frameBurst: number;
  /**
   * Cluster: the UDP address other nodes send this node's share of cross-node
   * voice to (bound, and advertised in the cluster). Default: the relay's host.
   */
  linkHost: string | undefined;
  /** Cluster: UDP port of the node link; 0 picks a free one. Default 0. */
  linkPort: number;
  /** Cluster: milliseconds a node waits for another node's answer (a TALK REQUEST, a group's talkers). Default 3000. */
  clusterTimeoutMs: number;
  /**
   * A frame for a WebSocket party is dropped (and counted) when more than this many
   * bytes already wait on its connection: voice is never queued without bound, and
   * late voice is worth less than none. Default 32 KiB (a few hundred Opus frames).
   */
  wsVoiceHighWaterBytes: number;
  /**
   * A bound UDP party that goes over `frameRate` gets a socket of its own: bound
   * to the relay's port (SO_REUSEADDR) and connected to the party's address, so the
   * kernel queues its datagrams apart and a flood faster than one socket can be
   * read drops only the flooder's own frames. At most this many at once (one file
   * descriptor each, closed when the party leaves); past it, flooders share the
   * relay's socket. 0: never. Default 256.
   */
  peerSockets: number;
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
  linkHost: undefined,
  linkPort: 0,
  clusterTimeoutMs: 3000,
  wsVoiceHighWaterBytes: 32 * 1024,
  peerSockets: 256,
});

/** The largest UDP payload over IPv4: a bigger `maxFrameBytes` could never bind. */
const MAX_UDP_PAYLOAD = 65_507;

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
  for (const k of ['recvBufferBytes', 'sendBufferBytes'] as const) {
    const b = opts[k];
    if (typeof b !== 'number' || !Number.isInteger(b) || b < 1) throw invalid(k, `must be a positive whole number, got ${String(b)}`);
  }
  const m = opts.maxFrameBytes;
  // 40 bytes hold the smallest frame a 16-character key can make.
  if (typeof m !== 'number' || !Number.isInteger(m) || m < 40 || m > MAX_UDP_PAYLOAD) {
    throw invalid('maxFrameBytes', `must be a whole number 40-${MAX_UDP_PAYLOAD}, got ${String(m)}`);
  }
  const r = opts.frameRate;
  if (typeof r !== 'number' || !Number.isFinite(r) || r < 0) throw invalid('frameRate', `must be a number >= 0 (0: no bound), got ${String(r)}`);
  const b = opts.frameBurst;
  if (typeof b !== 'number' || !Number.isInteger(b) || b < 1) throw invalid('frameBurst', `must be a positive whole number, got ${String(b)}`);
  const lh = opts.linkHost;
  if (lh !== undefined && (typeof lh !== 'string' || lh === '')) throw invalid('linkHost', 'must be a non-empty address');
  const lp = opts.linkPort;
  if (typeof lp !== 'number' || !Number.isInteger(lp) || lp < 0 || lp > 65535) throw invalid('linkPort', `must be a port number 0-65535, got ${String(lp)}`);
  const ct = opts.clusterTimeoutMs;
  if (typeof ct !== 'number' || !Number.isFinite(ct) || ct <= 0) throw invalid('clusterTimeoutMs', `must be a positive number, got ${String(ct)}`);
  const w = opts.wsVoiceHighWaterBytes;
  if (typeof w !== 'number' || !Number.isInteger(w) || w < 0) throw invalid('wsVoiceHighWaterBytes', `must be a whole number >= 0, got ${String(w)}`);
  const ps = opts.peerSockets;
  if (typeof ps !== 'number' || !Number.isInteger(ps) || ps < 0) throw invalid('peerSockets', `must be a whole number >= 0, got ${String(ps)}`);
  return opts;
}

function invalid(key: string, why: string): ParleyError {
  return new ParleyError('PARLEY_ERR_INVALID_OPTION', `voip.${key}`, why);
}
