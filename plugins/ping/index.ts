import { definePlugin, ParleyError, type Plugin } from '../../core/index.js';
import { PingPlugin } from './ping.js';
import { DEFAULT_PING_OPTIONS, PING_OPTIONS, type PingOptions } from './options.js';

export { PingPlugin, PING_OPTIONS, DEFAULT_PING_OPTIONS, type PingOptions };

/**
 * Keepalive plugin: owns `PONG`.
 * @param options intervalMs (default 60 000), timeoutMs (default 150 000)
 */
export function pingPlugin(options: Partial<PingOptions> = {}): Plugin {
  const opts = { ...DEFAULT_PING_OPTIONS, ...options };
  for (const k of ['intervalMs', 'timeoutMs'] as const) {
    if (!(opts[k] > 0) || !Number.isFinite(opts[k])) throw new ParleyError('PARLEY_ERR_INVALID_OPTION', `ping.${k}`, 'must be a positive number');
  }
  return definePlugin({
    name: 'ping',
    verbs: ['PONG'],
    useClass: PingPlugin,
    register: (c) => c.register(PING_OPTIONS, { useValue: opts }),
  });
}
