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
  const nodes = o.target === undefined ? [] : 'host' in o.target ? [o.target] : o.target;
  if (o.target !== undefined && nodes.length === 0) throw new RangeError('target: at least one node');
  if (nodes.length > 0) {
    const first = nodes[0]!;
    const udp = (n: { port: number; udpPort?: number }): { udpPort?: number } => (voice ? { udpPort: n.udpPort ?? n.port } : {});
    return {
      target: {
        kind: 'remote',
        host: first.host,
        port: first.port,
        ...udp(first),
        ...(nodes.length > 1 ? { nodes: nodes.map((n) => ({ host: n.host, port: n.port, ...udp(n) })) } : {}),
      },
    };
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
