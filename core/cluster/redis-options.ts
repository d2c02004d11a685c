/** Options of the Redis cluster, apart from its implementation so that naming them loads no Redis client. */
export interface RedisClusterOptions {
  /** `redis://host:port[/db]`. */
  url: string;
  /** Every key and channel starts with `<prefix>:`, so clusters can share one Redis. Default 'parley'. */
  prefix?: string;
  /** Unique among the nodes. Default: random. */
  nodeId?: string;
  /** How long a node's nicks and members outlive its last heartbeat (a crashed node vanishes within this). Default 15000 ms. */
  leaseMs?: number;
}

export const DEFAULT_REDIS_CLUSTER = Object.freeze({ prefix: 'parley', leaseMs: 15_000 });
