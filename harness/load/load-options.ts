/**
 * The options of a load run: their types, the check `new Harness(opts)` makes,
 * and the defaults (defaults.ts) filled in for the run.
 */
import type { Limits } from '../../core/index.js';
import type { BuiltinPluginName } from '../../plugins/index.js';
import { DEFAULT_LOAD_OPTIONS, LOAD_TRANSPORTS, type LoadDefaults, type LoadMix, type LoadScenario, type LoadTransport } from './defaults.js';

export interface EmbeddedOptions {
  /** Plugins of the embedded server. Default: every built-in. */
  plugins?: readonly BuiltinPluginName[];
  /** Limits on top of the load tuning ({@link EMBEDDED_LOAD_LIMITS}). */
  limits?: Partial<Limits>;
  /**
   * 'worker' (default): the server runs in a worker thread of this process, so
   * that it and the load clients each get a core; 'main': on this thread.
   */
  thread?: 'worker' | 'main';
}

/** One node of a running server. */
export interface LoadEndpoint {
  host: string;
  port: number;
  /** Its voice relay's UDP port. Default: `port`. */
  udpPort?: number;
}

export interface LoadOptions {
  /**
   * A running server, or several nodes of one cluster: clients are spread over
   * them round robin (client i connects to node i mod n). Without it, an
   * embedded server is started in this process.
   */
  target?: LoadEndpoint | readonly LoadEndpoint[];
  /** Options of the embedded server (ignored with `target`). */
  embedded?: EmbeddedOptions;
  /** Default 'chat'. */
  scenario?: LoadScenario;
  /** 'tcp' (default) or 'ws': the clients' text over WebSocket at `/parley` of the target's port. */
  transport?: LoadTransport;
  /** Default 100 (churn: concurrent connect/leave loops). */
  clients?: number;
  /** Text senders: chat default 10; dm default every client. */
  senders?: number;
  /** Aggregate messages/s (churn: cycles/s); 0 = open loop. Default 100. */
  rate?: number;
  /** Default 10. */
  durationS?: number;
  /** Default 2. */
  warmupS?: number;
  /** Clients connected per second. Default 500. */
  ramp?: number;
  /** Default 100. */
  payloadBytes?: number;
  /** mixed's weights. Default chat 70, dm 20, voice 10. */
  mix?: LoadMix;
  /** group-voice's group size. Default 4. */
  groupSize?: number;
  /** Messages in flight per sender. Default: 100, fewer in big channels ({@link autoWindow}). */
  window?: number;
  /** Voice frame period, ms. Default 20. */
  frameMs?: number;
  /** A 16-bit PCM WAV file the talkers replay as Opus; receivers decode it. */
  voiceWav?: string;
  /** Measure this process's CPU and RSS as the server's (a remote server on this machine). */
  serverPid?: number;
  /** Seconds to connect and set up. Default 30. */
  setupTimeoutS?: number;
  /** Seconds to wait after the end for deliveries in flight. Default 5. */
  drainS?: number;
  /** Aborting ends the measured window now and finishes the run. */
  signal?: AbortSignal;
}

/**
 * Options with every default filled in, except `senders` and `window`: their
 * defaults depend on the scenario (scenarios/index.ts, `autoWindow`).
 */
export type ResolvedLoadOptions = LoadOptions & Readonly<Omit<LoadDefaults, 'senders' | 'window'>>;

/** Throws a RangeError for the first option out of range. */
export function validateLoadOptions(o: LoadOptions): void {
  const check = (name: string, v: number | undefined, min: number, integer = false): void => {
    if (v === undefined) return;
    if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v))) {
      throw new RangeError(`${name} must be ${integer ? 'a whole number' : 'a number'} >= ${min}, got ${v}`);
    }
  };
  check('clients', o.clients, 1, true);
  check('senders', o.senders, 0, true);
  check('rate', o.rate, 0);
  check('durationS', o.durationS, 0);
  check('warmupS', o.warmupS, 0);
  check('ramp', o.ramp, 0.001);
  check('payloadBytes', o.payloadBytes, 0, true);
  check('groupSize', o.groupSize, 2, true);
  check('window', o.window, 1, true);
  check('frameMs', o.frameMs, 1);
  check('setupTimeoutS', o.setupTimeoutS, 0.001);
  check('drainS', o.drainS, 0);
  const scenario = o.scenario ?? DEFAULT_LOAD_OPTIONS.scenario;
  if (o.transport !== undefined && !LOAD_TRANSPORTS.includes(o.transport))
    throw new RangeError(`transport must be one of ${LOAD_TRANSPORTS.join(', ')}, got ${String(o.transport)}`);
  if (o.mix && !(o.mix.chat >= 0 && o.mix.dm >= 0 && o.mix.voice >= 0 && o.mix.chat + o.mix.dm + o.mix.voice > 0)) {
    throw new RangeError('mix weights must be >= 0 and add up to more than 0');
  }
  const clients = o.clients ?? DEFAULT_LOAD_OPTIONS.clients;
  if ((scenario === 'dm' || scenario === 'voice' || scenario === 'group-voice') && clients < 2) {
    throw new RangeError(`${scenario} needs at least 2 clients`);
  }
}

/** `o` with the defaults of {@link DEFAULT_LOAD_OPTIONS} for what it leaves out. */
export function withDefaults(o: LoadOptions): ResolvedLoadOptions {
  const d = DEFAULT_LOAD_OPTIONS;
  return {
    ...o,
    scenario: o.scenario ?? d.scenario,
    transport: o.transport ?? d.transport,
    clients: o.clients ?? d.clients,
    rate: o.rate ?? d.rate,
    durationS: o.durationS ?? d.durationS,
    warmupS: o.warmupS ?? d.warmupS,
    ramp: o.ramp ?? d.ramp,
    payloadBytes: o.payloadBytes ?? d.payloadBytes,
    mix: o.mix ?? d.mix,
    groupSize: o.groupSize ?? d.groupSize,
    frameMs: o.frameMs ?? d.frameMs,
    setupTimeoutS: o.setupTimeoutS ?? d.setupTimeoutS,
    drainS: o.drainS ?? d.drainS,
  };
}
