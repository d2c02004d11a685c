import { CHANNEL_DIRECTORY, definePlugin, PLUGIN_CONTEXT, type Plugin } from '../../core/index.js';
import { VoipPlugin } from './voip.js';
import { DEFAULT_VOIP_OPTIONS, resolveVoipOptions, VOIP_OPTIONS, type VoipOptions } from './options.js';

export { VoipPlugin, DEFAULT_VOIP_OPTIONS, VOIP_OPTIONS, type VoipOptions };
export { DROP_REASONS, type DropReason, type VoipStats } from './stats.js';
export { newSessionKey } from './session-key.js';
export * from './voice-frame.js';

/**
 * Voice plugin: owns `TALK` (1:1 calls and channel group voice) and relays
 * voice frames over UDP. Needs the channels plugin.
 * @param options talkTimeoutMs (default 30 000), udpPort (default: the TCP port),
 *   udpHost (default: the TCP host), recvBufferBytes and sendBufferBytes (default 4 MiB),
 *   maxFrameBytes (default 1400), frameRate (default 100/s; 0: no bound), frameBurst (default 50)
 * @example
 * const server = createServer({ plugins: [...builtinPlugins(['ping', 'channels', 'im']), voipPlugin({ udpPort: 7421 })] });
 * await server.listen({ port: 7420 });
 * server.resolve(VoipPlugin).stats();
 */
export function voipPlugin(options: Partial<VoipOptions> = {}): Plugin {
  const opts = resolveVoipOptions(options);
  return definePlugin({
    name: 'voip',
    verbs: ['TALK'],
    dependencies: ['channels'],
    inject: [PLUGIN_CONTEXT, VOIP_OPTIONS, CHANNEL_DIRECTORY],
    useClass: VoipPlugin,
    register: (c) => c.register(VOIP_OPTIONS, { useValue: opts }),
  });
}
