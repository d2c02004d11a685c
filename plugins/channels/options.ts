import { isValidChannel, resolveOptions, whole, type InjectionToken } from '../../core/index.js';

export interface ChannelsOptions {
  /** Channel every client joins right after `ACCEPT`; null for none. Default '#lobby'. */
  defaultChannel: string | null;
  /** Channels one client may be in at once. Default 64. */
  maxChannelsPerUser: number;
  /** Channels on the server in all; a `JOIN` that would create one more is `TOO_MANY_CHANNELS`. 0: no limit. Default 100 000. */
  maxChannels: number;
}

export const DEFAULT_CHANNELS_OPTIONS: Readonly<ChannelsOptions> = Object.freeze({ defaultChannel: '#lobby', maxChannelsPerUser: 64, maxChannels: 100_000 });

export const CHANNELS_OPTIONS: InjectionToken<ChannelsOptions> = Symbol('parley.ChannelsOptions');

/** Defaults filled in and every value checked; throws PARLEY_ERR_INVALID_OPTION. */
export function resolveChannelsOptions(given?: Partial<ChannelsOptions>): ChannelsOptions {
  return resolveOptions('channels', DEFAULT_CHANNELS_OPTIONS, given, {
    defaultChannel: (v) => (v === null || (typeof v === 'string' && isValidChannel(v)) ? undefined : `"${String(v)}" is not a valid channel name`),
    maxChannelsPerUser: whole(1),
    maxChannels: whole(0),
  });
}
