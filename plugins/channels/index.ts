import { CHANNEL_DIRECTORY, definePlugin, isValidChannel, ParleyError, type Plugin } from '../../core/index.js';
import { ChannelsPlugin } from './channels.js';
import { ChannelStore, Channel } from './channel-store.js';
import { CHANNELS_OPTIONS, DEFAULT_CHANNELS_OPTIONS, type ChannelsOptions } from './options.js';

export { ChannelsPlugin, ChannelStore, Channel, CHANNELS_OPTIONS, DEFAULT_CHANNELS_OPTIONS, type ChannelsOptions };

/**
 * Channels plugin: owns `JOIN` and `LEAVE`, puts every client in the default channel.
 * @param options defaultChannel (default '#lobby', null for none), maxChannelsPerUser (default 64), maxChannels (default 100 000, 0: none)
 */
export function channelsPlugin(options: Partial<ChannelsOptions> = {}): Plugin {
  const opts = { ...DEFAULT_CHANNELS_OPTIONS, ...options };
  if (opts.defaultChannel !== null && !isValidChannel(opts.defaultChannel)) {
    throw new ParleyError('PARLEY_ERR_INVALID_OPTION', 'channels.defaultChannel', `"${opts.defaultChannel}" is not a valid channel name`);
  }
  if (!(opts.maxChannelsPerUser >= 1)) throw new ParleyError('PARLEY_ERR_INVALID_OPTION', 'channels.maxChannelsPerUser', 'must be at least 1');
  if (!(Number.isInteger(opts.maxChannels) && opts.maxChannels >= 0)) {
    throw new ParleyError('PARLEY_ERR_INVALID_OPTION', 'channels.maxChannels', 'must be a non-negative integer');
  }
  return definePlugin({
    name: 'channels',
    verbs: ['JOIN', 'LEAVE'],
    useClass: ChannelsPlugin,
    register(c) {
      c.register(CHANNELS_OPTIONS, { useValue: opts });
      c.register(CHANNEL_DIRECTORY, { useToken: ChannelsPlugin });
    },
  });
}
