/** `parley serve`: run a server until SIGINT/SIGTERM. */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createLogger, LOG_LEVELS, redisCluster, type LogLevel, type Limits, type ClusterFactory } from '../core/index.js';
import { BUILTIN_PLUGIN_NAMES, builtinPlugins, createServer, VoipPlugin, type BuiltinPluginName } from '../index.js';
import { num, seconds, UsageError } from './args.js';

export const SERVE_OPTIONS = {
  host: { type: 'string', default: '127.0.0.1' },
  port: { type: 'string', default: '7420' },
  plugins: { type: 'string' },
  'default-channel': { type: 'string', default: '#lobby' },
  'ping-interval': { type: 'string', default: '60' },
  'ping-timeout': { type: 'string', default: '150' },
  'talk-timeout': { type: 'string', default: '30' },
  'udp-port': { type: 'string' },
  'udp-buffer': { type: 'string' },
  'stats-interval': { type: 'string', default: '0' },
  'max-line': { type: 'string', default: '8192' },
  'rate-limit': { type: 'string', default: '50' },
  'rate-burst': { type: 'string', default: '200' },
  'max-per-ip': { type: 'string', default: '64' },
  'send-queue': { type: 'string', default: '1048576' },
  'handshake-timeout': { type: 'string', default: '30' },
  hostname: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'log-level': { type: 'string', default: 'info' },
  help: { type: 'boolean', short: 'h' },
  // Cluster (issue 9): several `parley serve` processes over one Redis act as one server.
  redis: { type: 'string' },
  'redis-prefix': { type: 'string', default: 'parley' },
  'redis-lease': { type: 'string', default: '15' },
  'node-id': { type: 'string' },
} as const;

/** `--redis URL` (or PARLEY_REDIS_URL) makes this process a cluster node; none: a single node. */
function clusterFlags(v: { redis?: string | undefined; 'redis-prefix'?: string | undefined; 'redis-lease'?: string | undefined; 'node-id'?: string | undefined }): ClusterFactory | undefined {
  const url = v.redis ?? process.env['PARLEY_REDIS_URL'];
  if (!url) return undefined;
  if (!/^rediss?:\/\//.test(url)) throw new UsageError(`--redis: expected redis://host:port[/db], got "${url}"`);
  const leaseMs = seconds(v['redis-lease'], 'redis-lease')!;
  if (leaseMs <= 0) throw new UsageError('--redis-lease must be above 0');
  const prefix = v['redis-prefix'] ?? 'parley';
  if (!/^[\w.-]+$/.test(prefix)) throw new UsageError('--redis-prefix: letters, digits, _ . - only');
  return redisCluster({ url, prefix, leaseMs, ...(v['node-id'] ? { nodeId: v['node-id'] } : {}) });
}

export async function serve(argv: string[]): Promise<number> {
  const { values: v } = parseArgs({ args: argv, options: SERVE_OPTIONS, strict: true, allowPositionals: false });
  const level = v['log-level'] as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}`);
  const names = (v.plugins ?? BUILTIN_PLUGIN_NAMES.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  for (const n of names) {
    if (!(BUILTIN_PLUGIN_NAMES as readonly string[]).includes(n)) {
      throw new UsageError(`--plugins: unknown plugin "${n}" (available: ${BUILTIN_PLUGIN_NAMES.join(', ')})`);
    }
  }
  if (Boolean(v['tls-cert']) !== Boolean(v['tls-key'])) throw new UsageError('--tls-cert and --tls-key go together');
  const limits: Partial<Limits> = {
    maxLineBytes: num(v['max-line'], 'max-line', { min: 64, integer: true }),
    rateLimit: num(v['rate-limit'], 'rate-limit', { min: 0 }),
    rateBurst: num(v['rate-burst'], 'rate-burst', { min: 1, integer: true }),
    maxConnectionsPerIp: num(v['max-per-ip'], 'max-per-ip', { min: 0, integer: true }),
    sendQueueBytes: num(v['send-queue'], 'send-queue', { min: 1024, integer: true }),
    handshakeTimeoutMs: seconds(v['handshake-timeout'], 'handshake-timeout'),
  };
  const pingIntervalMs = seconds(v['ping-interval'], 'ping-interval')!;
  const pingTimeoutMs = seconds(v['ping-timeout'], 'ping-timeout')!;
  if (pingIntervalMs <= 0 || pingTimeoutMs <= 0) throw new UsageError('--ping-interval and --ping-timeout must be above 0');
  const port = num(v.port, 'port', { min: 0, integer: true })!;
  const talkTimeoutMs = seconds(v['talk-timeout'], 'talk-timeout')!;
  if (talkTimeoutMs <= 0) throw new UsageError('--talk-timeout must be above 0');
  const udpPort = num(v['udp-port'], 'udp-port', { min: 0, integer: true });
  if (udpPort !== undefined && udpPort > 65535) throw new UsageError(`--udp-port: port ${udpPort} is out of range`);
  const udpBuffer = num(v['udp-buffer'], 'udp-buffer', { min: 1, integer: true });
  const statsMs = seconds(v['stats-interval'], 'stats-interval')!;
  const dc = v['default-channel']!;
  const logger = createLogger(level);
  const server = createServer({
    plugins: builtinPlugins(names as BuiltinPluginName[], {
      ping: { intervalMs: pingIntervalMs, timeoutMs: pingTimeoutMs },
      channels: { defaultChannel: dc === '' || dc === 'none' ? null : dc },
      voip: { talkTimeoutMs, udpPort, recvBufferBytes: udpBuffer, sendBufferBytes: udpBuffer },
    }),
    hostname: v.hostname,
    limits,
    logger,
    tls: v['tls-cert'] ? { cert: readFileSync(v['tls-cert']), key: readFileSync(v['tls-key']!) } : undefined,
    cluster: clusterFlags(v),
  });
  const addr = await server.listen({ host: v.host, port });
  // On stdout, for people and for scripts that wait for the port.
  process.stdout.write(`parley listening on ${addr.host}:${addr.port} with plugins ${names.join(', ')}\n`);
  let statsTimer: NodeJS.Timeout | undefined;
  if (statsMs > 0 && names.includes('voip')) {
    const voip = server.resolve(VoipPlugin);
    statsTimer = setInterval(() => logger.info('voip stats', voip.stats()), statsMs);
    statsTimer.unref();
  }
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (sig: string): void => {
      if (stopping) return;
      stopping = true;
      clearInterval(statsTimer);
      logger.info(`${sig}: closing`);
      server.close().then(
        () => resolve(0),
        (err: unknown) => {
          logger.error('close failed', err);
          resolve(1);
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
