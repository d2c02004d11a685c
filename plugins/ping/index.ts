import { definePlugin, PLUGIN_CONTEXT, type Plugin } from '../../core/index.js';
import { PingPlugin } from './ping.js';
import { DEFAULT_PING_OPTIONS, PING_OPTIONS, resolvePingOptions, type PingOptions } from './options.js';

export { PingPlugin, PING_OPTIONS, DEFAULT_PING_OPTIONS, type PingOptions };

/**
 * Keepalive plugin: owns `PONG`.
 * @param options intervalMs (default 60 000), timeoutMs (default 150 000)
 */
export function pingPlugin(options: Partial<PingOptions> = {}): Plugin {
  const opts = resolvePingOptions(options);
  return definePlugin({
    name: 'ping',
    verbs: ['PONG'],
    inject: [PLUGIN_CONTEXT, PING_OPTIONS],
    useClass: PingPlugin,
    register: (c) => c.register(PING_OPTIONS, { useValue: opts }),
  });
}
