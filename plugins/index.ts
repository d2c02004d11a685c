/** The built-in plugins as a set, and `createServer` with them (moved out of the root so that nothing imports the root). */
import { ParleyServer, type ServerOptions, type Plugin } from '../core/index.js';
import { pingPlugin, type PingOptions } from './ping/index.js';
import { channelsPlugin, type ChannelsOptions } from './channels/index.js';
import { imPlugin } from './im/index.js';
import { voipPlugin, type VoipOptions } from './voip/index.js';

/** Options of every built-in plugin, for {@link builtinPlugins}. */
export interface BuiltinPluginOptions {
  ping?: Partial<PingOptions>;
  channels?: Partial<ChannelsOptions>;
  voip?: Partial<VoipOptions>;
}

/** The names of the built-in plugins, in start order. */
export const BUILTIN_PLUGIN_NAMES = ['ping', 'channels', 'im', 'voip'] as const;
export type BuiltinPluginName = (typeof BUILTIN_PLUGIN_NAMES)[number];

/**
 * The built-in plugins, optionally a subset, configured.
 * @param names which plugins (default: all), in start order
 */
export function builtinPlugins(names: readonly BuiltinPluginName[] = BUILTIN_PLUGIN_NAMES, options: BuiltinPluginOptions = {}): Plugin[] {
  const make: Record<BuiltinPluginName, () => Plugin> = {
    ping: () => pingPlugin(options.ping),
    channels: () => channelsPlugin(options.channels),
    im: () => imPlugin(),
    voip: () => voipPlugin(options.voip),
  };
  return BUILTIN_PLUGIN_NAMES.filter((n) => names.includes(n)).map((n) => make[n]());
}

/**
 * Creates a server. Without `plugins`, every built-in plugin is enabled with its defaults.
 * Call `listen()` to serve and `close()` to stop.
 */
export function createServer(options: ServerOptions = {}): ParleyServer {
  return new ParleyServer({ ...options, plugins: options.plugins ?? builtinPlugins() });
}
