/** Where a run sends its load: the `target` of the options, or an embedded server started for it. */
import { BUILTIN_PLUGIN_NAMES } from '../../plugins/index.js';
import { EMBEDDED_LOAD_LIMITS } from './defaults.js';
import { startEmbedded, type EmbeddedServer } from './embedded-server.js';
import type { LoadOptions } from './load-options.js';
import type { LoadTarget } from './report.js';

/**
 * The target of a run; starts the embedded server when there is no `o.target`
 * (the caller closes it).
 * @param voice the scenario uses the voice relay: report its UDP port, and require voip on an embedded server
 */
export async function startTarget(o: Pick<LoadOptions, 'target' | 'embedded'>, voice: boolean): Promise<{ target: LoadTarget; server?: EmbeddedServer }> {
  if (o.target) {
    return { target: { kind: 'remote', host: o.target.host, port: o.target.port, ...(voice ? { udpPort: o.target.udpPort ?? o.target.port } : {}) } };
  }
  const names = o.embedded?.plugins ?? BUILTIN_PLUGIN_NAMES;
  if (voice && !names.includes('voip')) throw new Error('voice scenarios need the voip plugin on the embedded server');
  const server = await startEmbedded({ plugins: names, limits: { ...EMBEDDED_LOAD_LIMITS, ...o.embedded?.limits }, thread: o.embedded?.thread });
  return {
    server,
    target: {
      kind: 'embedded',
      host: server.host,
      port: server.port,
      ...(voice && server.udpPort !== undefined ? { udpPort: server.udpPort } : {}),
      tuning: `${server.tuning}, ${server.thread === 'worker' ? 'in a worker thread' : 'on the main thread'}`,
      plugins: [...names],
    },
  };
}
