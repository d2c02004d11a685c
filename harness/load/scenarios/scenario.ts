/**
 * The shape of a load scenario. Most scenarios are "parts" (a population of
 * long-lived clients with a setup per client, text senders and voice talkers)
 * that `PartsScenario` drives with the shared engines; `mixed` is several parts
 * at once. `churn` implements `Scenario` directly.
 */
import type { LoadClient } from '../load-client.js';
import type { LoadContext } from '../load-context.js';
import { TextLoad, type TextSender } from './text-load.js';
import { VoiceLoad, type Talker } from './voice-load.js';

/** What a scenario needs from the run. */
export interface ScenarioEnv {
  readonly ctx: LoadContext;
  /** Aggregate text messages/s (churn: cycles/s); 0 = open loop. */
  readonly rate: number;
  readonly senders: number | undefined;
  /** Messages in flight per sender; undefined = {@link autoWindow}. */
  readonly window: number | undefined;
  readonly payloadBytes: number;
  readonly groupSize: number;
  readonly frameMs: number;
  /** Clients started per second (churn's loops). */
  readonly ramp: number;
  readonly setupTimeoutMs: number;
  /** Payloads the talkers replay in turn: Opus frames, or one filler buffer. */
  readonly voicePayloads: readonly Buffer[];
  /** The nick of client `i` of this run. */
  nick(i: number): string;
  /** A new connection with that nick (counted as a client of the run). */
  connect(nick: string): LoadClient;
}

export interface Scenario {
  /** Long-lived clients to connect during the ramp. */
  readonly clients: number;
  /** Text senders and voice talkers, known once started. */
  readonly senders: number;
  readonly talkers: number;
  /**
   * Client `i` was accepted: bring it into position (join, call). Rejects if it
   * cannot. `accepted` holds the index of every client that was accepted.
   */
  prepare(i: number, client: LoadClient, accepted: ReadonlySet<number>): Promise<void>;
  /** Setup is over (clients that failed are undefined): start the load. Warm-up begins now. */
  start(clients: readonly (LoadClient | undefined)[]): void;
  /** The measured window ended: stop sending. */
  stop(): void;
  /** True while measured deliveries may still arrive. */
  inFlight(): boolean;
  /** Stops everything left (timers, loops) before the clients are closed. */
  finish(): Promise<void>;
}

/** One population of a parts scenario: clients `[offset, offset + count)`. */
export interface Part {
  readonly offset: number;
  readonly count: number;
  prepare(i: number, client: LoadClient, accepted: ReadonlySet<number>): Promise<void>;
  /** Allocates receive state and returns this part's text senders (slots are per text group). */
  textSenders(clients: readonly (LoadClient | undefined)[]): TextSender[];
  talkers(clients: readonly (LoadClient | undefined)[]): Talker[];
}

/** Runs parts with one text engine (uniform per-sender rate) and one voice engine. */
export class PartsScenario implements Scenario {
  readonly clients: number;
  senders = 0;
  talkers = 0;
  #text: TextLoad | undefined;
  #voice: VoiceLoad | undefined;

  constructor(
    private readonly env: ScenarioEnv,
    private readonly parts: readonly Part[],
  ) {
    this.clients = parts.reduce((n, p) => n + p.count, 0);
  }

  prepare(i: number, client: LoadClient, accepted: ReadonlySet<number>): Promise<void> {
    const part = this.parts.find((p) => i >= p.offset && i < p.offset + p.count);
    return part ? part.prepare(i, client, accepted) : Promise.resolve();
  }

  start(clients: readonly (LoadClient | undefined)[]): void {
    const senders = this.parts.flatMap((p) => p.textSenders(clients));
    const talkers = this.parts.flatMap((p) => p.talkers(clients));
    const env = this.env;
    this.senders = senders.length;
    this.talkers = talkers.length;
    if (senders.length > 0) {
      this.#text = new TextLoad(env.ctx, senders, { rate: env.rate, window: env.window, payloadBytes: env.payloadBytes });
      this.#text.start();
    }
    if (talkers.length > 0) {
      this.#voice = new VoiceLoad(env.ctx, talkers, { frameMs: env.frameMs, payloads: env.voicePayloads });
      this.#voice.start();
    }
  }

  stop(): void {
    this.#text?.stop();
    this.#voice?.stop();
  }

  inFlight(): boolean {
    const m = this.env.ctx.m;
    return m.received < m.expected || m.voice.framesReceived < m.voice.framesExpected;
  }

  async finish(): Promise<void> {
    this.stop();
  }
}

/** Resolves when `done()` is called for it, for waiting on a partner. */
export class Latch {
  readonly promise: Promise<void>;
  done!: () => void;
  constructor() {
    this.promise = new Promise((r) => (this.done = r));
  }
}

/** Rejects after `ms` unless `p` settles first. */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error(`timed out: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}

/** True when the client is connected and set up. */
export function alive(c: LoadClient | undefined): c is LoadClient {
  return c !== undefined && c.state === 'accepted';
}
