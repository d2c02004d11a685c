/** Shared setup of the voip end-to-end tests: servers, clients and raw UDP sockets that close with the test. */
import * as dgram from 'node:dgram';
import type { ExecutionContext } from 'ava';
import { builtinPlugins, createServer, type ParleyServer, type ServerOptions } from '../../index.js';
import { redisCluster } from '../../core/index.js';
import { ParleyClient, VoiceClient } from '../../harness/client/index.js';
import { RedisServer } from '../../test/redis-server.js';
import { roundRobin } from '../../test/helpers.js';
import { VoipPlugin } from './voip.js';
import type { VoipOptions } from './options.js';
import type { VoipStats } from './stats.js';

export interface TestServer {
  server: ParleyServer;
  port: number;
  udpPort: number;
  voip: VoipPlugin;
}

/**
 * A server with every built-in plugin on 127.0.0.1, ports picked by the OS.
 * UDP defaults to port 0 here so that parallel tests never race for the TCP port number.
 */
export async function startServer(t: ExecutionContext, voip: Partial<VoipOptions> = {}, options: ServerOptions = {}): Promise<TestServer> {
  const server = createServer({ logger: 'error', hostname: 'test', ...options, plugins: builtinPlugins(undefined, { voip: { udpPort: 0, ...voip } }) });
  t.teardown(() => server.close());
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  const plugin = server.resolve(VoipPlugin);
  return { server, port, udpPort: plugin.udpAddress()!.port, voip: plugin };
}

export async function connect(t: ExecutionContext, port: number, nick: string): Promise<ParleyClient> {
  const c = await ParleyClient.connect({ port, nick, timeoutMs: 3000 });
  t.teardown(() => c.destroy());
  return c;
}

export async function voice(t: ExecutionContext, s: TestServer, key: string, nick: string, bindAddress?: string): Promise<VoiceClient> {
  const opts = { host: '127.0.0.1', port: s.udpPort, key, nick, ...(bindAddress === undefined ? {} : { bindAddress }) };
  const v = await VoiceClient.open(opts);
  t.teardown(() => v.close());
  return v;
}

/** A bare UDP socket that records every datagram it receives, byte for byte. */
export interface RawUdp {
  readonly socket: dgram.Socket;
  readonly received: Buffer[];
  send(buf: Buffer): void;
  /** Resolves once `n` datagrams in total have arrived. */
  receivedCount(n: number, timeoutMs?: number): Promise<Buffer[]>;
}

export async function rawUdp(t: ExecutionContext, s: TestServer, bindAddress = '127.0.0.1'): Promise<RawUdp> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, bindAddress, () => resolve()));
  t.teardown(() => new Promise<void>((r) => socket.close(() => r())));
  const received: Buffer[] = [];
  socket.on('message', (buf) => received.push(buf));
  return {
    socket,
    received,
    send: (buf) => socket.send(buf, s.udpPort, '127.0.0.1'),
    receivedCount: async (n, timeoutMs = 3000) => {
      await until(() => received.length >= n, timeoutMs, `${n} datagrams`);
      return received;
    },
  };
}

/** Polls `cond` every 5 ms; throws after `timeoutMs`. */
export async function until(cond: () => boolean, timeoutMs = 3000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The two parties' own keys of a 1:1 call. */
export interface CallKeys {
  caller: string;
  callee: string;
}

/** `caller` requests a call with `callee`, who accepts; resolves with each party's own key once `ACCEPTED` arrived. */
export async function call(caller: ParleyClient, callee: ParleyClient): Promise<CallKeys> {
  const key = await caller.talkRequest(callee.nick);
  const req = await callee.waitFor('TALK', (m) => m.event === 'REQUEST' && m.peer === caller.nick);
  callee.talkAccept(caller.nick, req.key);
  await caller.waitFor('TALK', (m) => m.event === 'ACCEPTED' && m.key === key);
  return { caller: key, callee: req.key };
}

/** Binds each voice client and waits until the relay counts `expected` bound endpoints. */
export async function bindAll(s: TestServer, clients: VoiceClient[], expected: number): Promise<void> {
  for (const c of clients) c.bind();
  await until(() => s.voip.stats().boundEndpoints >= expected, 3000, `${expected} bound endpoints`);
}

/** One node, or several over Redis; clients connect to `port` (round robin over the nodes) or to one node's `ports[i]`. */
export interface VoipServers {
  port: number;
  ports: number[];
  udpPorts: number[];
  servers: ParleyServer[];
  plugins: VoipPlugin[];
  /** Stats summed over the nodes; `groupSessions` is the most any node has (a group has a session on each node with talkers). */
  voip: { stats(): VoipStats };
}

export interface VoipTopology {
  readonly name: string;
  title(text: string): string;
  start(t: ExecutionContext, voip?: Partial<VoipOptions>): Promise<VoipServers>;
}

let prefixes = 0;

/**
 * `n` nodes with every built-in plugin on the test file's shared redis-server
 * (a prefix of their own), on 127.0.0.1, behind a round-robin TCP balancer:
 * the first client to node 0, the second to node 1, and so on.
 */
export async function startVoipCluster(t: ExecutionContext, voip: Partial<VoipOptions> = {}, n = 3, leaseMs = 3000): Promise<VoipServers> {
  const redis = await RedisServer.shared();
  const prefix = `v${process.pid}-${prefixes++}`;
  const nodes: TestServer[] = [];
  for (let i = 0; i < n; i++) nodes.push(await startServer(t, voip, { cluster: redisCluster({ url: redis.url, prefix, nodeId: `node${i}`, leaseMs }) }));
  const ports = nodes.map((x) => x.port);
  return { port: await roundRobin(t, ports), ...aggregate(nodes) };
}

function aggregate(nodes: TestServer[]): Omit<VoipServers, 'port'> {
  const plugins = nodes.map((x) => x.voip);
  return {
    ports: nodes.map((x) => x.port),
    udpPorts: nodes.map((x) => x.udpPort),
    servers: nodes.map((x) => x.server),
    plugins,
    voip: { stats: () => sumStats(plugins.map((p) => p.stats())) },
  };
}

function sumStats(all: VoipStats[]): VoipStats {
  const add = (a: unknown, b: unknown): unknown => {
    if (typeof a === 'number' && typeof b === 'number') return a + b;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(a as object)) out[k] = add((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]);
    return out;
  };
  const sum = all.slice(1).reduce((acc, s) => add(acc, s) as VoipStats, all[0]!);
  return { ...sum, groupSessions: Math.max(...all.map((s) => s.groupSessions)) };
}

/** The voip end-to-end tests run in both: one node, and three over Redis with parties spread round robin. */
export function voipTopologies(): readonly VoipTopology[] {
  return [
    {
      name: 'single node',
      title: (text) => text,
      start: async (t, voip) => {
        const s = await startServer(t, voip);
        return { port: s.port, ...aggregate([s]) };
      },
    },
    { name: '3-node cluster', title: (text) => `${text} [3-node cluster]`, start: (t, voip) => startVoipCluster(t, voip) },
  ];
}
