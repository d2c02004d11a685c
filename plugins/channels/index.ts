import { CHANNEL_DIRECTORY, definePlugin, PLUGIN_CONTEXT, type Plugin } from '../../core/index.js';
import { ChannelsPlugin } from './channels.js';
import { CHANNELS_OPTIONS, DEFAULT_CHANNELS_OPTIONS, resolveChannelsOptions, type ChannelsOptions } from './options.js';

export { ChannelsPlugin, CHANNELS_OPTIONS, DEFAULT_CHANNELS_OPTIONS, type ChannelsOptions };

/**
 * Channels plugin: owns `JOIN` and `LEAVE`, puts every client in the default channel,
 * and provides the {@link CHANNEL_DIRECTORY} other plugins and `server.broadcast` use.
 * @param options defaultChannel (default '#lobby', null for none), maxChannelsPerUser (default 64), maxChannels (default 100 000, 0: none)
 */
export function channelsPlugin(options: Partial<ChannelsOptions> = {}): Plugin {
  const opts = resolveChannelsOptions(options);
  return definePlugin({
    name: 'channels',
    verbs: ['JOIN', 'LEAVE'],
    inject: [PLUGIN_CONTEXT, CHANNELS_OPTIONS],
    useClass: ChannelsPlugin,
    provides: [CHANNEL_DIRECTORY],
    register: (c) => c.register(CHANNELS_OPTIONS, { useValue: opts }),
  });
}
