// A real redis-server for the cluster tests: started on a free port with no
// persistence, stopped (SIGKILL) in teardown. Stop and start it again to test
// an outage; the port stays the same.
import type { ExecutionContext } from 'ava';
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';

export const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';

export class RedisServer {
  #child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts one on a free port; it is killed in teardown. */
  static async start(t: ExecutionContext): Promise<RedisServer> {
    const server = new RedisServer(await freePort());
    t.teardown(() => server.stop());
    await server.restart();
    return server;
  }

  /**
   * One server for the whole test file (the process), started on first use and
   * killed when the process exits. Tests share it under different prefixes.
   */
  static shared(): Promise<RedisServer> {
    shared ??= (async () => {
      const server = new RedisServer(await freePort());
      process.once('exit', () => server.#child?.kill('SIGKILL'));
      await server.restart();
      // The shared server must not keep the test process alive.
      server.#child?.unref();
      for (const s of [server.#child?.stdout, server.#child?.stderr]) (s as unknown as { unref?(): void } | null | undefined)?.unref?.();
      return server;
    })();
    return shared;
  }

  /** (Re)starts the server on its port and waits until it accepts connections. */
  async restart(): Promise<void> {
    if (this.#child) return;
    const child = spawn(REDIS_SERVER, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.#child = child;
    let out = '';
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start within 10 s: ${out}`)), 10_000);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`cannot run ${REDIS_SERVER}: ${err.message} (apt-get install redis-server)`));
      });
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('Ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited with ${code}: ${out}`));
      });
    });
    child.stdout!.resume();
    child.stderr!.resume();
  }

  /** Kills the server (SIGKILL: an outage, not a shutdown) and waits for it to exit. */
  async stop(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill('SIGKILL');
    await exited;
  }
}

let shared: Promise<RedisServer> | undefined;

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
