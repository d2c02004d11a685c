// The cluster contract against the in-memory cluster (nodes sharing one hub)
// and the Redis cluster (nodes on one real redis-server).
import test from 'ava';
import { clusterContract } from './contract.js';
import { MemoryHub } from './memory-hub.js';
import { memoryCluster } from './memory-cluster.js';
import { redisCluster } from './redis-factory.js';
import { RedisServer } from '../../test/redis-server.js';

clusterContract(test, 'memory', async (_t, n) => {
  const hub = new MemoryHub();
  return { factories: Array.from({ length: n }, () => memoryCluster({ hub })), leaseMs: 0 };
});

clusterContract(test, 'redis', async (t, n) => {
  const redis = await RedisServer.start(t);
  const leaseMs = 600;
  return { factories: Array.from({ length: n }, (_, i) => redisCluster({ url: redis.url, prefix: 'ct', nodeId: `node${i}`, leaseMs })), leaseMs };
});
