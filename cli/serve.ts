/** `parley serve`: run a server until SIGINT/SIGTERM. */
import { readFileSync } from 'node:fs';
import {
  createLogger,
  DEFAULT_HOST,
  DEFAULT_LIMITS,
  DEFAULT_PORT,
  LOG_LEVELS,
  DEFAULT_REDIS_CLUSTER,
  redisCluster,
  type ClusterFactory,
  type Limits,
  type LogLevel,
} from '../core/index.js';
import { DEFAULT_PING_OPTIONS } from '../plugins/ping/options.js';
import { DEFAULT_CHANNELS_OPTIONS } from '../plugins/channels/options.js';
import { DEFAULT_VOIP_OPTIONS } from '../plugins/voip/options.js';
import { BUILTIN_PLUGIN_NAMES, builtinPlugins, createServer, VoipPlugin, type BuiltinPluginName } from '../index.js';
import { TrustedProxies } from '../core/proxy-protocol.js';
import { defined, duration, flagLines, formatBytes, formatMs, num, parseFlags, port, UsageError, type FlagSpec } from './args.js';

/** Log level of `parley serve` (the library's own default is quieter). */
export const SERVE_LOG_LEVEL: LogLevel = 'info';

const L = DEFAULT_LIMITS;
const n = (v: number): string => String(v);
const perS = (v: number, what: string, off = '0 = off'): string => (v === 0 ? `0 (${off})` : `${v} ${what}/s`);

/**
 * Every flag of `parley serve`, in help order. Defaults are read from the
 * library's defaults objects (core/defaults.ts and each plugin's options.ts)
 * for the help text; parsing leaves a missing flag undefined so the library
 * applies the same default.
 */
export const SERVE_OPTIONS = {
  host: { type: 'string', arg: 'ADDR', help: 'bind address', shown: () => DEFAULT_HOST },
  port: { type: 'string', arg: 'N', help: 'TCP port, 0 for any free one', shown: () => n(DEFAULT_PORT) },
  plugins: { type: 'string', arg: 'LIST', help: 'comma-separated plugins', shown: () => `${BUILTIN_PLUGIN_NAMES.join(',')}: all available` },
  'default-channel': {
    type: 'string',
    arg: 'NAME',
    help: "channel joined after ACCEPT, 'none' for none",
    shown: () => DEFAULT_CHANNELS_OPTIONS.defaultChannel ?? 'none',
  },
  'max-channels': { type: 'string', arg: 'N', help: 'channels on the server in all', shown: () => `${DEFAULT_CHANNELS_OPTIONS.maxChannels} channels` },
  'ping-interval': { type: 'string', arg: 'DURATION', help: 'time between PINGs', shown: () => formatMs(DEFAULT_PING_OPTIONS.intervalMs) },
  'ping-timeout': {
    type: 'string',
    arg: 'DURATION',
    help: 'time without the matching PONG before disconnect',
    shown: () => formatMs(DEFAULT_PING_OPTIONS.timeoutMs),
  },
  'talk-timeout': {
    type: 'string',
    arg: 'DURATION',
    help: 'a talk request waits / a call may carry no voice',
    shown: () => formatMs(DEFAULT_VOIP_OPTIONS.talkTimeoutMs),
  },
  'udp-port': { type: 'string', arg: 'N', help: 'voice relay UDP port', shown: () => 'the TCP port' },
  'udp-buffer': {
    type: 'string',
    arg: 'BYTES',
    help: 'voice relay socket receive and send buffers',
    shown: () => formatBytes(DEFAULT_VOIP_OPTIONS.recvBufferBytes),
  },
  'voice-max-frame': {
    type: 'string',
    arg: 'BYTES',
    help: 'largest voice frame a participant may send',
    shown: () => formatBytes(DEFAULT_VOIP_OPTIONS.maxFrameBytes),
  },
  'voice-rate': { type: 'string', arg: 'N', help: 'voice frames per second per participant', shown: () => `${DEFAULT_VOIP_OPTIONS.frameRate} frames/s` },
  'voice-burst': {
    type: 'string',
    arg: 'N',
    help: 'voice frames a participant may send above the rate',
    shown: () => `${DEFAULT_VOIP_OPTIONS.frameBurst} frames`,
  },
  'voice-flood-sockets': {
    type: 'string',
    arg: 'N',
    help: 'participants over the voice rate that get a UDP socket of their own, 0 for none',
    shown: () => `${DEFAULT_VOIP_OPTIONS.peerSockets} sockets`,
  },
  'stats-interval': { type: 'string', arg: 'DURATION', help: 'log voice stats this often, 0 for never', shown: () => '0 (never)' },
  'max-line': { type: 'string', arg: 'BYTES', help: 'longest line, terminator included', shown: () => formatBytes(L.maxLineBytes) },
  'rate-limit': { type: 'string', arg: 'N', help: 'commands per second per client', shown: () => perS(L.rateLimit, 'commands', '0 = no limit') },
  'rate-burst': { type: 'string', arg: 'N', help: 'commands a client may send in one burst', shown: () => `${L.rateBurst} commands` },
  'max-connections': { type: 'string', arg: 'N', help: 'connections in all, 0 for no limit', shown: () => `${L.maxConnections} connections` },
  'reserved-fds': {
    type: 'string',
    arg: 'N',
    help: 'file descriptors kept free of clients below the open-file limit',
    shown: () => `${L.reservedFds} descriptors`,
  },
  'max-per-ip': { type: 'string', arg: 'N', help: 'connections per IP address, 0 for no limit', shown: () => `${L.maxConnectionsPerIp} connections` },
  'connect-rate': { type: 'string', arg: 'N', help: 'new connections per second per IP, 0 for no limit', shown: () => perS(L.connectRatePerIp, 'connections') },
  'connect-burst': { type: 'string', arg: 'N', help: 'new connections an IP may open in one burst', shown: () => `${L.connectBurstPerIp} connections` },
  'send-queue': { type: 'string', arg: 'BYTES', help: 'unsent bytes per client before it is disconnected', shown: () => formatBytes(L.sendQueueBytes) },
  'handshake-timeout': { type: 'string', arg: 'DURATION', help: 'time a connection may take to CONNECT', shown: () => formatMs(L.handshakeTimeoutMs) },
  hostname: { type: 'string', arg: 'NAME', help: "name sent in 'ACCEPT: <hostname>'", shown: () => "the machine's hostname" },
  'tls-cert': { type: 'string', arg: 'FILE', help: 'serve TLS with this certificate (PEM)', shown: () => 'off' },
  'tls-key': { type: 'string', arg: 'FILE', help: 'private key (PEM) for --tls-cert', shown: () => 'off' },
  'no-web': { type: 'boolean', help: 'no web page at / (WebSocket clients at /parley are still served)', shown: () => 'the page is served' },
  'log-level': { type: 'string', arg: 'LEVEL', help: LOG_LEVELS.join(', '), shown: () => SERVE_LOG_LEVEL },
  redis: { type: 'string', arg: 'URL', help: 'run as a cluster node over Redis, redis://host:port[/db]', shown: () => '$PARLEY_REDIS_URL, else off' },
  'redis-prefix': { type: 'string', arg: 'NAME', help: 'prefix of every Redis key and channel', shown: () => DEFAULT_REDIS_CLUSTER.prefix },
  'redis-lease': { type: 'string', arg: 'DURATION', help: "how long a killed node's users outlive it", shown: () => formatMs(DEFAULT_REDIS_CLUSTER.leaseMs) },
  'proxy-protocol': { type: 'boolean', help: 'connections from --trusted-proxy start with a HAProxy PROXY header (v1 or v2)', shown: () => 'off' },
  'trusted-proxy': { type: 'string', arg: 'ADDR[,ADDR...]', help: 'load balancers whose PROXY headers are believed (CIDR allowed)', shown: () => 'none' },
  'node-id': { type: 'string', arg: 'ID', help: "this node's id, unique in the cluster", shown: () => 'random' },
  help: { type: 'boolean', short: 'h', help: 'this help' },
} as const satisfies Record<string, FlagSpec>;

/** The help of `parley serve`, generated from SERVE_OPTIONS. */
export function serveHelp(): string {
  return `Usage: parley serve [flags]

Runs a parley server until SIGINT or SIGTERM, then closes gracefully
(every client gets 'DISCONNECT: server shutting down'). Logs go to stderr.
DURATION: 500ms, 10s, 2m, 1h; a bare number is seconds.

Flags [default]:
${flagLines(SERVE_OPTIONS)}`;
}

/** What the flags ask for, as `createServer` options; throws UsageError. Exported for tests. */
export function serveConfigFrom(argv: string[]) {
  const v = parseFlags(argv, SERVE_OPTIONS);
  const level = (v['log-level'] ?? SERVE_LOG_LEVEL) as LogLevel;
  if (!LOG_LEVELS.includes(level)) throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got '${level}'`);
  const names = (v.plugins ?? BUILTIN_PLUGIN_NAMES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!(BUILTIN_PLUGIN_NAMES as readonly string[]).includes(name)) {
      throw new UsageError(`--plugins: unknown plugin '${name}' (available: ${BUILTIN_PLUGIN_NAMES.join(', ')})`);
    }
  }
  if (Boolean(v['tls-cert']) !== Boolean(v['tls-key'])) throw new UsageError('--tls-cert and --tls-key go together');
  const whole = (flag: keyof typeof SERVE_OPTIONS, min: number): number | undefined => num(v[flag] as string | undefined, flag, { min, integer: true });
  const limits: Partial<Limits> = defined({
    maxLineBytes: whole('max-line', 64),
    rateLimit: num(v['rate-limit'], 'rate-limit', { min: 0 }),
    rateBurst: whole('rate-burst', 1),
    maxConnections: whole('max-connections', 0),
    maxConnectionsPerIp: whole('max-per-ip', 0),
    reservedFds: whole('reserved-fds', 0),
    connectRatePerIp: num(v['connect-rate'], 'connect-rate', { min: 0 }),
    connectBurstPerIp: whole('connect-burst', 1),
    sendQueueBytes: whole('send-queue', 1024),
    handshakeTimeoutMs: duration(v['handshake-timeout'], 'handshake-timeout', { positive: true }),
  });
  const trusted = (v['trusted-proxy'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (v['proxy-protocol'] && trusted.length === 0) throw new UsageError('--proxy-protocol needs --trusted-proxy ADDR[,ADDR...]');
  if (!v['proxy-protocol'] && trusted.length > 0) throw new UsageError('--trusted-proxy goes with --proxy-protocol');
  for (const a of trusted) {
    try {
      new TrustedProxies([a]);
    } catch {
      throw new UsageError(`--trusted-proxy: '${a}' is not an address or CIDR block`);
    }
  }
  const dc = v['default-channel'];
  const udpBuffer = whole('udp-buffer', 1);
  const plugins = {
    ping: defined({
      intervalMs: duration(v['ping-interval'], 'ping-interval', { positive: true }),
      timeoutMs: duration(v['ping-timeout'], 'ping-timeout', { positive: true }),
    }),
    channels: defined({
      defaultChannel: dc === undefined ? undefined : dc === '' || dc === 'none' ? null : dc,
      maxChannels: whole('max-channels', 1),
    }),
    voip: defined({
      talkTimeoutMs: duration(v['talk-timeout'], 'talk-timeout', { positive: true }),
      udpPort: port(v['udp-port'], 'udp-port'),
      recvBufferBytes: udpBuffer,
      sendBufferBytes: udpBuffer,
      maxFrameBytes: whole('voice-max-frame', 1),
      frameRate: whole('voice-rate', 1),
      frameBurst: whole('voice-burst', 1),
      peerSockets: whole('voice-flood-sockets', 0),
    }),
  };
  return {
    host: v.host ?? DEFAULT_HOST,
    port: port(v.port, 'port') ?? DEFAULT_PORT,
    names: names as BuiltinPluginName[],
    plugins,
    limits,
    level,
    hostname: v.hostname,
    statsMs: duration(v['stats-interval'], 'stats-interval') ?? 0,
    proxyProtocol: trusted.length > 0 ? { trusted } : undefined,
    tls: v['tls-cert'] ? { certFile: v['tls-cert'], keyFile: v['tls-key']! } : undefined,
    cluster: clusterFlags(
      v.redis ?? process.env.PARLEY_REDIS_URL,
      v['redis-prefix'],
      duration(v['redis-lease'], 'redis-lease', { positive: true }),
      v['node-id'],
    ),
    web: v['no-web'] !== true,
  };
}

/** `--redis URL` (or PARLEY_REDIS_URL) makes this process a cluster node; none: a single node. */
function clusterFlags(
  url: string | undefined,
  prefix: string = DEFAULT_REDIS_CLUSTER.prefix,
  leaseMs: number = DEFAULT_REDIS_CLUSTER.leaseMs,
  nodeId?: string,
): ClusterFactory | undefined {
  if (url === undefined || url === '') return undefined;
  if (!/^rediss?:\/\//.test(url)) throw new UsageError(`--redis: expected redis://host:port[/db], got '${url}'`);
  if (!/^[\w.-]+$/.test(prefix)) throw new UsageError('--redis-prefix: letters, digits, _ . - only');
  return redisCluster({ url, prefix, leaseMs, ...(nodeId ? { nodeId } : {}) });
}

export async function serve(argv: string[]): Promise<number> {
  const c = serveConfigFrom(argv);
  const logger = createLogger(c.level);
  const server = createServer({
    plugins: builtinPlugins(c.names, c.plugins),
    hostname: c.hostname,
    limits: c.limits,
    logger,
    tls: c.tls ? { cert: readFileSync(c.tls.certFile), key: readFileSync(c.tls.keyFile) } : undefined,
    cluster: c.cluster,
    web: c.web,
    proxyProtocol: c.proxyProtocol,
  });
  const addr = await server.listen({ host: c.host, port: c.port });
  // On stdout, for people and for scripts that wait for the port.
  process.stdout.write(`parley listening on ${addr.host}:${addr.port} with plugins ${c.names.join(', ')}\n`);
  const scheme = c.tls ? 'https' : 'http';
  if (c.web) process.stdout.write(`web chat at ${scheme}://${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}/\n`);
  let statsTimer: NodeJS.Timeout | undefined;
  if (c.statsMs > 0 && c.names.includes('voip')) {
    const voip = server.resolve(VoipPlugin);
    statsTimer = setInterval(() => logger.info('voip stats', voip.stats()), c.statsMs);
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
