import { positive, resolveOptions, type InjectionToken } from '../../core/index.js';

export interface PingOptions {
  /** Milliseconds between PINGs. Default 60 000. */
  intervalMs: number;
  /** Milliseconds a PING may go unanswered before the session is closed. Default 150 000. */
  timeoutMs: number;
}

export const DEFAULT_PING_OPTIONS: Readonly<PingOptions> = Object.freeze({ intervalMs: 60_000, timeoutMs: 150_000 });

export const PING_OPTIONS: InjectionToken<PingOptions> = Symbol('parley.PingOptions');

/** Defaults filled in and every value checked; throws PARLEY_ERR_INVALID_OPTION. */
export function resolvePingOptions(given?: Partial<PingOptions>): PingOptions {
  return resolveOptions('ping', DEFAULT_PING_OPTIONS, given, { intervalMs: positive, timeoutMs: positive });
}
