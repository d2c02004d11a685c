export * from './types.js';
export { MemoryHub } from './memory-hub.js';
export { MemoryCluster, memoryCluster, randomNodeId, type MemoryClusterOptions } from './memory-cluster.js';
export { RedisCluster, redisCluster, DEFAULT_REDIS_CLUSTER, type RedisClusterOptions } from './redis-cluster.js';
