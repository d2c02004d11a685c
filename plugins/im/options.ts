import { resolveOptions } from '../../core/index.js';

/** The im plugin has no options yet; the type keeps its factory's signature stable. */
export type ImOptions = Record<string, never>;

export const DEFAULT_IM_OPTIONS: Readonly<ImOptions> = Object.freeze({});

/** Refuses any key (PARLEY_ERR_INVALID_OPTION): there are none yet. */
export function resolveImOptions(given?: Partial<ImOptions>): ImOptions {
  return resolveOptions('im', DEFAULT_IM_OPTIONS, given, {});
}
