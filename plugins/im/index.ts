import { definePlugin, type Plugin } from '../../core/index.js';
import { ImPlugin } from './im.js';

export { ImPlugin };

/** Options of the im plugin (none yet; kept for a stable factory signature). */
export type ImOptions = Record<string, never>;

/** Instant-messaging plugin: owns `MSG`. Uses the channels plugin for channel targets when it is enabled. */
export function imPlugin(_options: ImOptions = {}): Plugin {
  return definePlugin({ name: 'im', verbs: ['MSG'], useClass: ImPlugin });
}
