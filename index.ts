/**
 * parley: a TypeScript chat framework with voice.
 * Clients are in `parley/client` (harness/client), the load harness in `parley/harness` (harness/load).
 * @example
 * import { createServer } from 'parley';
 * const server = createServer();            // all built-in plugins
 * const { port } = await server.listen({ port: 7420 });
 * server.events$.subscribe((e) => console.log(e));
 * await server.close();
 */
export * from './core/index.js';
export * from './plugins/ping/index.js';
export * from './plugins/channels/index.js';
export * from './plugins/im/index.js';
export * from './plugins/voip/index.js';
export * from './plugins/index.js';
