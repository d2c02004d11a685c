/**
 * Defaults of the load harness (`run(opts)` and `parley load`), in one place.
 * The CLI help text repeats each of them; change both together.
 */
import type { Limits } from '../../core/index.js';

export const LOAD_SCENARIOS = ['chat', 'dm', 'voice', 'group-voice', 'mixed', 'churn'] as const;
/** chat: channel fan-out; dm: pairs; voice: 1:1 calls; group-voice: groups in a channel's voice; mixed: a blend; churn: connect/leave storms. */
export type LoadScenario = (typeof LOAD_SCENARIOS)[number];

/** The parts of `mixed`, by weight. */
export interface LoadMix {
  chat: number;
  dm: number;
  voice: number;
}

/** How load clients reach the server: the line protocol over TCP, or over WebSocket at `/parley` of the same port. */
export type LoadTransport = 'tcp' | 'ws';
export const LOAD_TRANSPORTS: readonly LoadTransport[] = ['tcp', 'ws'];

export interface LoadDefaults {
  /** Default 'chat'. */
  scenario: LoadScenario;
  /** Text over TCP or WebSocket (voice frames go over UDP either way). Default 'tcp'. */
  transport: LoadTransport;
  /** Simulated clients (for churn: concurrent connect/leave loops). Default 100. */
  clients: number;
  /** Clients that send text in chat (and in mixed's chat part). dm: every client unless set. Default 10. */
  senders: number;
  /** Aggregate text messages per second over all senders (churn: cycles per second); 0 = open loop. Default 100. */
  rate: number;
  /** Measured seconds. Default 10. */
  durationS: number;
  /** Seconds of load before measuring, excluded from the figures. Default 2. */
  warmupS: number;
  /** Clients connected per second while ramping up. Default 500. */
  ramp: number;
  /** Bytes of each message's text and of each voice frame's payload (without --voice-wav). Default 100. */
  payloadBytes: number;
  /** Weights of mixed. Default chat=70, dm=20, voice=10. */
  mix: LoadMix;
  /** Clients per channel group voice in group-voice. Default 4. */
  groupSize: number;
  /**
   * Messages a sender may have in flight (sent, not yet seen by its observer)
   * before it waits. Default 100, but at most ~20 000 deliveries per sender
   * (so 4 in a channel of 5 000), at least 2.
   */
  window: number;
  /** Milliseconds between voice frames. Default 20. */
  frameMs: number;
  /** Seconds a connection may take to be accepted and set up. Default 30. */
  setupTimeoutS: number;
  /** Seconds after the end to wait for deliveries still in flight. Default 5. */
  drainS: number;
}

export const DEFAULT_LOAD_OPTIONS: Readonly<LoadDefaults> = Object.freeze({
  scenario: 'chat',
  transport: 'tcp',
  clients: 100,
  senders: 10,
  rate: 100,
  durationS: 10,
  warmupS: 2,
  ramp: 500,
  payloadBytes: 100,
  mix: Object.freeze({ chat: 70, dm: 20, voice: 10 }),
  groupSize: 4,
  window: 100,
  frameMs: 20,
  setupTimeoutS: 30,
  drainS: 5,
});

/**
 * Limits of an embedded server tuned for load: no per-IP or rate limit, a
 * 64 MiB send queue so that a busy receiver is measured, not disconnected.
 */
export const EMBEDDED_LOAD_LIMITS: Readonly<Partial<Limits>> = Object.freeze({
  rateLimit: 0,
  maxConnectionsPerIp: 0,
  sendQueueBytes: 64 * 1024 * 1024,
});

/** The default window of a sender whose messages reach `fanout` recipients. */
export function autoWindow(fanout: number): number {
  return Math.max(2, Math.min(DEFAULT_LOAD_OPTIONS.window, Math.ceil(20_000 / Math.max(1, fanout))));
}

/** Connections that may be between `connect()` and `ACCEPT` at once while ramping. */
export const MAX_CONNECTING = 256;
