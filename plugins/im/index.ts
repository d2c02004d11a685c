import { definePlugin, PLUGIN_CONTEXT, type Plugin } from '../../core/index.js';
import { ImPlugin } from './im.js';
import { DEFAULT_IM_OPTIONS, resolveImOptions, type ImOptions } from './options.js';

export { ImPlugin, DEFAULT_IM_OPTIONS, type ImOptions };

/** Instant-messaging plugin: owns `MSG`. Uses the channels plugin for channel targets when it is enabled. */
export function imPlugin(options: ImOptions = {}): Plugin {
  resolveImOptions(options);
  return definePlugin({ name: 'im', verbs: ['MSG'], inject: [PLUGIN_CONTEXT], useClass: ImPlugin });
}
