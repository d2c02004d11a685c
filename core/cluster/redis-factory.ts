import type { ClusterFactory } from './types.js';
import type { RedisClusterOptions } from './redis-options.js';

/**
 * Makes a server one node of a cluster over Redis (ioredis, msgpackr between nodes).
 * The Redis client loads only when this is called, so `require('parley')` stays light.
 * @example createServer({ cluster: redisCluster({ url: 'redis://127.0.0.1:6379', prefix: 'chat' }) })
 */
export function redisCluster(options: RedisClusterOptions): ClusterFactory {
  const { RedisCluster } = require('./redis-cluster.js') as typeof import('./redis-cluster.js');
  return (host) => new RedisCluster(host, options);
}
