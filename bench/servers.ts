// The chat servers that the benchmarks compare, started as external processes.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BenchChild, type SpawnOptions } from './children.js';

/** dist/ (this file is dist/bench/servers.js once built). */
export const DIST_DIR = path.resolve(__dirname, '..');
/** The repository root. */
export const ROOT_DIR = path.resolve(DIST_DIR, '..');

export interface ServerKind {
  readonly name: string;
  /** undefined when the server can run, otherwise why it cannot (yet). */
  unavailable(): string | undefined;
  /** Starts the server on a free port on 127.0.0.1 and resolves once it listens. */
  start(opts: SpawnOptions & { startTimeoutMs?: number }): Promise<RunningServer>;
}

export interface RunningServer {
  readonly child: BenchChild;
  readonly port: number;
}

async function startAndParsePort(
  label: string,
  script: string,
  args: string[],
  portRe: RegExp,
  opts: SpawnOptions & { startTimeoutMs?: number },
): Promise<RunningServer> {
  const child = new BenchChild(label, process.execPath, [script, ...args], { ...opts, cwd: opts.cwd ?? ROOT_DIR });
  try {
    const { m } = await child.waitForLine(portRe, opts.startTimeoutMs ?? 20_000, `${label} to listen (${portRe})`);
    const port = Number(m![1]);
    if (!Number.isInteger(port) || port <= 0) throw new Error(`${label}: bad port in output`);
    return { child, port };
  } catch (err) {
    await child.kill();
    throw err;
  }
}

export const bareServer: ServerKind = {
  name: 'bare',
  unavailable() {
    const f = path.join(DIST_DIR, 'bench', 'bare-fanout-server.js');
    return fs.existsSync(f) ? undefined : `${f} not built`;
  },
  start(opts) {
    return startAndParsePort(
      'bare',
      path.join(DIST_DIR, 'bench', 'bare-fanout-server.js'),
      ['--port', '0', '--parent-stdin'],
      /^LISTENING (\d+)/,
      opts,
    );
  },
};

export const parleyServer: ServerKind = {
  name: 'parley',
  unavailable() {
    const f = path.join(DIST_DIR, 'cli', 'main.js');
    return fs.existsSync(f) ? undefined : `${f} does not exist yet`;
  },
  start(opts) {
    return startAndParsePort(
      'parley',
      path.join(DIST_DIR, 'cli', 'main.js'),
      ['serve', '--port', '0', '--rate-limit', '0', '--max-per-ip', '0', '--log-level', 'warn'],
      /listening on \S*?127\.0\.0\.1:(\d+)/i,
      opts,
    );
  },
};

export const chatServers: readonly ServerKind[] = [bareServer, parleyServer];
