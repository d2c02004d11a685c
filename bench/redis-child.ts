// A redis-server child for the cluster benchmarks: its own port, no persistence.
import * as net from 'node:net';
import { BenchChild } from './children.js';

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** Starts `cmd` (a redis-server) on a free port, pinned to `cpu` when given; resolves once it takes connections. */
export async function startRedis(cmd = 'redis-server', cpu?: number): Promise<{ child: BenchChild; url: string }> {
  const port = await freePort();
  const child = new BenchChild(
    'redis-server',
    cmd,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    cpu === undefined ? {} : { cpu },
  );
  try {
    await child.waitForLine(/Ready to accept connections/, 10_000, 'redis-server to start');
  } catch (err) {
    await child.kill();
    throw err;
  }
  return { child, url: `redis://127.0.0.1:${port}` };
}
