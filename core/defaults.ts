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
  /**
   * Fan-out cost: a command costs one more token per this many recipients it
   * reached (other clients written to while it ran). Default 100: a `JOIN` into a
   * 3,000-member channel costs 30 more tokens. 0: recipients cost nothing.
   */
  fanoutRecipientsPerCommand: number;
  /**
   * Fan-out cost: a command costs one more token per this many bytes it made the
   * server write to other clients. Default 1024: an 8 KB `MSG` to one user costs
   * 9 tokens (at 50/s, about 45 KB/s per sender, so 4 senders stay within what a
   * 300 KB/s reader drains, and a burst of 200 tokens is 200 KB, a fifth of the
   * send queue). 0: bytes cost nothing.
   */
  fanoutBytesPerCommand: number;
  /**
   * Longest delay one command's fan-out cost may impose on its sender's next
   * command, ms (the debt is capped at `rateLimit` x this). Default 10 000.
   */
  fanoutMaxDelayMs: number;
  /** Connections per remote IP, counted from TCP accept (TLS handshakes included); 0 disables the limit. Default 64. */
  maxConnectionsPerIp: number;
  /** Open connections in all, counted from TCP accept; 0: no limit. Default 20 000. */
  maxConnections: number;
  /** New connections per second per IP (token refill); 0 disables the throttle. Default 10. */
  connectRatePerIp: number;
  /** New connections one IP may open in a burst. Default 20. */
  connectBurstPerIp: number;
  /** Bytes queued for one client and not yet written before it is disconnected. Default 1 MiB. */
  sendQueueBytes: number;
  /** Milliseconds a connection may take to `CONNECT`, from TCP accept (a TLS handshake included). Default 30 000. */
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
  /**
   * Recipients of one command past which its output is bulk: written after
   * direct output (replies, small fan-outs), `bulkSliceSockets` sockets per
   * event-loop turn, so that one wide fan-out never holds up other clients'
   * replies for the whole of its writes. 0: all output is direct. Default 500:
   * below it one flush per turn batches best (splitting the fan-out of a
   * 200-member channel cost up to 40 % more CPU per delivery over WebSocket).
   */
  bulkAboveRecipients: number;
  /** Sockets a bulk fan-out writes per event-loop turn. Default 256. */
  bulkSliceSockets: number;
  /**
   * File descriptors kept free of client connections where the open-file limit
   * (`ulimit -n`, read at `listen` on Linux) is lower than `maxConnections`
   * allows: the voice relay's sockets (its per-flooder sockets among them), Redis,
   * log files. Past the room left, a connection is refused as `server full`
   * (logged, rate-limited) rather than reset by the OS. Default 320.
   */
  reservedFds: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxLineBytes: 8192,
  rateLimit: 50,
  rateBurst: 200,
  fanoutRecipientsPerCommand: 100,
  fanoutBytesPerCommand: 1024,
  fanoutMaxDelayMs: 10_000,
  maxConnectionsPerIp: 64,
  maxConnections: 20_000,
  connectRatePerIp: 10,
  connectBurstPerIp: 20,
  sendQueueBytes: 1024 * 1024,
  handshakeTimeoutMs: 30_000,
  closeGraceMs: 2_000,
  coalesceAboveSockets: 1000,
  maxCoalesceMs: 50,
  bulkAboveRecipients: 500,
  bulkSliceSockets: 256,
  reservedFds: 320,
});

/** The protocol version this server speaks. Clients with another MAJOR are refused. */
export const PROTOCOL_VERSION = '1.1.0';

/** Default TCP port of `parley serve` and `npm start`. */
export const DEFAULT_PORT = 7420;
/** Default bind address. */
export const DEFAULT_HOST = '127.0.0.1';
