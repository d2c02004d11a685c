/**
 * Every limit and timer of a server, in one place, with its default.
 * All are configurable through `createServer` options and `parley serve` flags.
 */
export interface Limits {
  /** Maximum bytes of one line, terminator included. Default 8192. */
  maxLineBytes: number;
  /** Commands per second per client (token refill rate); 0 disables the limit. Default 50. */
  rateLimit: number;
  /** Commands a client may send in one burst. Default 200. */
  rateBurst: number;
  /** Connections per remote IP; 0 disables the limit. Default 64. */
  maxConnectionsPerIp: number;
  /** Bytes queued for one client and not yet written before it is disconnected. Default 1 MiB. */
  sendQueueBytes: number;
  /** Milliseconds a connection may take to `CONNECT`. Default 30 000. */
  handshakeTimeoutMs: number;
  /** Milliseconds the server waits for sockets to close on shutdown before destroying them. Default 2 000. */
  closeGraceMs: number;
  /**
   * Sockets written by one flush from which output is coalesced for a few
   * milliseconds (wide fan-outs, join storms); 0 never coalesces. Default 1000.
   */
  coalesceAboveSockets: number;
  /** Longest coalescing delay, ms. Default 50. */
  maxCoalesceMs: number;
  /** Connections to the server in all; past it a new one gets `DISCONNECT: server full`. 0 disables the cap. Default 20 000. */
  maxConnections: number;
  /** New connections per second per remote IP (token refill rate); 0 disables the throttle. Default 10. */
  connectRatePerIp: number;
  /** New connections one IP may open in one burst before the throttle applies. Default 20. */
  connectBurstPerIp: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxLineBytes: 8192,
  rateLimit: 50,
  rateBurst: 200,
  maxConnectionsPerIp: 64,
  sendQueueBytes: 1024 * 1024,
  handshakeTimeoutMs: 30_000,
  closeGraceMs: 2_000,
  coalesceAboveSockets: 1000,
  maxCoalesceMs: 50,
  maxConnections: 20_000,
  connectRatePerIp: 10,
  connectBurstPerIp: 20,
});

/** The protocol version this server speaks. Clients with another MAJOR are refused. */
export const PROTOCOL_VERSION = '1.0.0';

/** Default TCP port of `parley serve` and `npm start`. */
export const DEFAULT_PORT = 7420;
/** Default bind address. */
export const DEFAULT_HOST = '127.0.0.1';
