// Shared setup of the end-to-end tests: real servers on 127.0.0.1 port 0, real
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// sockets, everything closed in t.teardown.
import type { ExecutionContext } from 'ava';
import * as net from 'node:net';
import { builtinPlugins, createServer, type BuiltinPluginOptions, type ParleyServer, type Plugin, type ServerOptions } from '../index.js';
import { ParleyClient, type ClientOptions, type ConnectOptions } from '../harness/client/index.js';
import { redisCluster } from '../core/index.js';
import { RedisServer } from './redis-server.js';

/** The text-protocol plugins (no voice), as most tests need. */
export function textPlugins(options: BuiltinPluginOptions = {}): Plugin[] {
  return builtinPlugins(['ping', 'channels', 'im'], options);
}

/** Starts a server (text plugins unless `plugins` is given) and closes it in teardown. */
export async function startServer(t: ExecutionContext, options: ServerOptions = {}): Promise<{ server: ParleyServer; port: number }> {
  const server = createServer({ hostname: 'test.parley', logger: 'silent', plugins: textPlugins(), ...options });
  t.teardown(() => server.close());
  const { port } = await server.listen({ port: 0 });
  return { server, port };
}

/** A connected client, destroyed in teardown. */
export async function connect(t: ExecutionContext, port: number, nick: string, opts: Partial<ConnectOptions> = {}): Promise<ParleyClient> {
  const client = await ParleyClient.connect({ port, nick, ...opts });
  t.teardown(() => client.destroy());
  return client;
}

/** An opened client that has not sent `CONNECT`, destroyed in teardown. */
export async function openClient(t: ExecutionContext, port: number, opts: Partial<ClientOptions> = {}): Promise<ParleyClient> {
  const client = new ParleyClient({ port, ...opts });
  t.teardown(() => client.destroy());
  await client.open();
  return client;
}

/** Connects and consumes the auto-join of #lobby (JOINED and USERLIST). */
export async function connectInLobby(t: ExecutionContext, port: number, nick: string, opts: Partial<ConnectOptions> = {}): Promise<ParleyClient> {
  const client = await connect(t, port, nick, opts);
  await client.waitFor('JOINED', (m) => m.channel === '#lobby');
  await client.waitFor('USERLIST', (m) => m.channel === '#lobby');
  return client;
}

/** A plain socket that records every line the server sends. */
export class RawSocket {
  readonly lines: string[] = [];
  readonly closed: Promise<void>;
  #buf = '';
  #wake: (() => void)[] = [];

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.#buf += chunk.toString('latin1');
      let i: number;
      while ((i = this.#buf.indexOf('\n')) !== -1) {
        this.lines.push(Buffer.from(this.#buf.slice(0, i), 'latin1').toString('utf8'));
        this.#buf = this.#buf.slice(i + 1);
      }
      for (const w of this.#wake.splice(0)) w();
    });
    socket.on('error', () => {});
    this.closed = new Promise((r) => socket.once('close', () => r()));
    void this.closed.then(() => {
      for (const w of this.#wake.splice(0)) w();
    });
  }

  static async open(t: ExecutionContext, port: number): Promise<RawSocket> {
    const socket = net.connect({ port, host: '127.0.0.1' });
    t.teardown(() => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawSocket(socket);
  }

  write(data: string | Buffer): void {
    if (!this.socket.destroyed) this.socket.write(data);
  }

  /** Resolves with the first line (from the start) matching `pred`; rejects after `timeoutMs`. */
  async waitLine(pred: (line: string) => boolean, timeoutMs = 3000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit !== undefined) return hit;
      const left = deadline - Date.now();
      if (left <= 0 || this.socket.destroyed) throw new Error(`no matching line within ${timeoutMs} ms; got ${JSON.stringify(this.lines.slice(-5))}`);
      await new Promise<void>((r) => {
        this.#wake.push(r);
        setTimeout(r, Math.min(left, 100));
      });
    }
  }

  /** Resolves once the server closed the socket, rejects after `timeoutMs`. */
  async waitClosed(timeoutMs = 3000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.closed,
      new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`socket still open after ${timeoutMs} ms`)), timeoutMs))),
    ]).finally(() => clearTimeout(timer));
  }
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `cond` every 10 ms, for at most `timeoutMs`; returns whether it held. */
export async function until(cond: () => boolean, timeoutMs = 3000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await sleep(10);
  }
  return true;
}

/** Resolves with `p`, or rejects after `ms` (so no test can hang on it). */
export async function within<T>(p: Promise<T>, ms: number, what = 'operation'): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([p, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} took over ${ms} ms`)), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** Where a test's clients connect: one server, or a cluster behind a round-robin balancer. */
export interface Topology {
  readonly name: string;
  /** The test's title in this topology (the single node keeps the plain title). */
  title(text: string): string;
  /** Starts the servers; `port` is where clients connect, `server` is the first node. */
  start(t: ExecutionContext, options?: ServerOptions): Promise<{ server: ParleyServer; port: number; servers: ParleyServer[] }>;
}

let prefixes = 0;

/**
 * A cluster of `n` nodes on the file's shared redis-server (under a prefix of
 * its own), each listening on port 0, behind a TCP balancer that hands
 * connections to the nodes round robin (the first to node 0). Closed in teardown.
 */
export async function startCluster(
  t: ExecutionContext,
  options: ServerOptions = {},
  n = 3,
  leaseMs = 3000,
): Promise<{ server: ParleyServer; port: number; servers: ParleyServer[]; ports: number[] }> {
  const redis = await RedisServer.shared();
  const prefix = `t${process.pid}-${prefixes++}`;
  const servers: ParleyServer[] = [];
  const ports: number[] = [];
  for (let i = 0; i < n; i++) {
    const { server, port } = await startServer(t, { cluster: redisCluster({ url: redis.url, prefix, nodeId: `node${i}`, leaseMs }), ...options });
    servers.push(server);
    ports.push(port);
  }
  const port = await roundRobin(t, ports);
  return { server: servers[0]!, port, servers, ports };
}

/** A TCP balancer on 127.0.0.1 port 0 that spreads connections over `ports`, round robin. */
export async function roundRobin(t: ExecutionContext, ports: readonly number[]): Promise<number> {
  let next = 0;
  const sockets = new Set<net.Socket>();
  const lb = net.createServer({ allowHalfOpen: true }, (client) => {
    const upstream = net.connect({ port: ports[next++ % ports.length]!, host: '127.0.0.1', allowHalfOpen: true });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {
        client.destroy();
        upstream.destroy();
      });
      s.once('close', () => sockets.delete(s));
    }
    client.pipe(upstream);
    upstream.pipe(client);
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  t.teardown(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => lb.close(() => r()));
  });
  await new Promise<void>((r) => lb.listen(0, '127.0.0.1', r));
  return (lb.address() as net.AddressInfo).port;
}

/** The topologies the end-to-end tests of channels and im run in: one node, and three over Redis. */
export function topologies(): readonly Topology[] {
  return [
    {
      name: 'single node',
      title: (text) => text,
      start: async (t, options) => {
        const r = await startServer(t, options);
        return { ...r, servers: [r.server] };
      },
    },
    { name: '3-node cluster', title: (text) => `${text} [3-node cluster]`, start: (t, options) => startCluster(t, options) },
  ];
}

/** A key and self-signed certificate for localhost (openssl), or undefined when openssl is missing. */
export function selfSigned(t: ExecutionContext): { key: Buffer; cert: Buffer } | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'parley-tls-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', keyFile, '-out', certFile], {
      stdio: 'ignore',
      timeout: 90_000,
    });
  } catch (err) {
    t.log(`openssl unavailable, TLS not tested: ${(err as Error).message}`);
    return undefined;
  }
  return { key: readFileSync(keyFile), cert: readFileSync(certFile) };
}
