export * from './types.js';
export { MemoryHub } from './memory-hub.js';
export { MemoryCluster, memoryCluster, randomNodeId, type MemoryClusterOptions } from './memory-cluster.js';
export type { RedisCluster } from './redis-cluster.js';
export { redisCluster } from './redis-factory.js';
export { DEFAULT_REDIS_CLUSTER, type RedisClusterOptions } from './redis-options.js';
